"""Record transformations: Personio's record shapes made flat, and per-record Jinja templates replaced.

Personio quirk: v1 wraps every record as ``{type, attributes}`` and every employee column as
``{label, value, type, universal_id}`` (:class:`FlattenAttributes`, :class:`KeepOnlyV1Id`); per-parent endpoints
leave the parent's id out of their records (:class:`AddPartitionField`). CDK default replaced: ``AddFields``
renders a Jinja template and ``ast.literal_eval``-s its output for every record.
"""

from __future__ import annotations

from dataclasses import InitVar, dataclass, field
from typing import Any, Dict, Mapping, Optional

from airbyte_cdk.sources.declarative.transformations import RecordTransformation
from airbyte_cdk.sources.declarative.transformations.add_fields import AddedFieldDefinition, AddFields
from airbyte_cdk.sources.types import Config, StreamSlice, StreamState


def _is_attribute(value: Any) -> bool:
    return isinstance(value, dict) and "value" in value and ("label" in value or "universal_id" in value)


def _is_entity(value: Any) -> bool:
    return isinstance(value, dict) and isinstance(value.get("attributes"), (dict, list)) and "type" in value


def flatten_value(value: Any) -> Any:
    """Unwrap v1 attribute objects and ``{type, attributes}`` entities, recursively."""
    if _is_attribute(value):
        return flatten_value(value["value"])
    if _is_entity(value):
        return flatten_entity(value)
    if isinstance(value, list):
        return [flatten_value(v) for v in value]
    if isinstance(value, dict):
        return {k: flatten_value(v) for k, v in value.items()}
    return value


def flatten_entity(entity: Mapping[str, Any]) -> Any:
    """A ``{type, attributes}`` entity as one flat object (its attributes beside its other keys)."""
    attributes = entity.get("attributes")
    if isinstance(attributes, list):  # e.g. custom-report column listings: keep as a list
        return [flatten_value(v) for v in attributes]
    flat: Dict[str, Any] = {k: flatten_value(v) for k, v in entity.items() if k not in ("type", "attributes")}
    for key, value in (attributes or {}).items():
        flat[key] = flatten_value(value)
        if _is_attribute(value) and "currency" in value:
            # salary attributes (fix_salary, hourly_salary) name their currency: kept beside the amount
            flat[f"{key}_currency"] = value["currency"]
    return flat


@dataclass
class FlattenAttributes(RecordTransformation):
    """Turn a Personio v1 record into a flat, typed row.

    Personio v1 wraps every record as ``{"type": "Employee", "attributes": {...}}`` and, for
    employees (and the employee embedded in time-offs), every column as
    ``{"label", "value", "type", "universal_id"}``. This keeps only the values, keyed by the
    attribute key (``dynamic_NNN`` custom attributes included); nested entities such as
    ``department`` or ``supervisor`` stay objects, flattened the same way. An attribute that carries a
    ``currency`` beside its value (``fix_salary`` / ``hourly_salary`` in captured tenant responses, §10.5)
    also gives a ``<key>_currency`` column, so an amount is never read without its currency. Reused by
    any stream whose records come in the v1 envelope.
    """

    parameters: InitVar[Mapping[str, Any]] = None

    def transform(
        self,
        record: Dict[str, Any],
        config: Optional[Config] = None,
        stream_state: Optional[StreamState] = None,
        stream_slice: Optional[StreamSlice] = None,
    ) -> None:
        flat = flatten_entity(record) if _is_entity(record) else flatten_value(dict(record))
        record.clear()
        record.update(flat)



_VALUE_TYPES = {"string": str, "integer": int}


@dataclass
class AddPartitionField(RecordTransformation):
    """Copy the partition's key into each record: ``record[field] = stream_partition[partition_field]``,
    as ``AddFields`` with ``value: "{{ stream_partition.<partition_field> }}"`` and ``value_type`` does.

    Personio quirk: per-parent endpoints (``/v2/absence-periods/{id}/breakdowns``,
    ``/v2/recruiting/applications/{id}/stage-transitions``, ``/v1/company/employees/{id}/absences/balance``)
    leave the parent's id out of their records, so it is added from the partition. Cost: ``AddFields``
    renders a Jinja template and parses its output with ``ast.literal_eval`` for every record; this
    takes the value directly. Any value whose Jinja rendering could read differently (quotes, empty,
    not an int or str, a slice without the key) goes through ``AddFields`` itself.
    """

    field: str
    partition_field: str
    parameters: InitVar[Mapping[str, Any]]
    value_type: str = "string"
    _add_fields: Optional[AddFields] = field(init=False, repr=False, default=None)

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        if self.value_type not in _VALUE_TYPES:
            raise ValueError(f"value_type must be one of {sorted(_VALUE_TYPES)}, got {self.value_type!r}")
        self._add_fields = AddFields(
            fields=[
                AddedFieldDefinition(
                    path=[self.field],
                    value="{{ stream_partition.%s }}" % self.partition_field,
                    value_type=_VALUE_TYPES[self.value_type],
                    parameters={},
                )
            ],
            parameters={},
        )

    def transform(
        self,
        record: Dict[str, Any],
        config: Optional[Config] = None,
        stream_state: Optional[StreamState] = None,
        stream_slice: Optional[StreamSlice] = None,
    ) -> None:
        value = _MISSING
        if stream_slice is not None:
            try:
                value = stream_slice[self.partition_field]
            except (KeyError, TypeError):
                pass
        kind = type(value)
        if kind is int:
            # "{{ 7 }}" renders "7", which literal_eval reads back as 7
            record[self.field] = value if self.value_type == "integer" else str(value)
            return
        if kind is str and self.value_type == "string" and value and "'" not in value and '"' not in value:
            # without quotes, literal_eval never makes a str of it: the rendered text is kept
            record[self.field] = value
            return
        self._add_fields.transform(record, config=config, stream_state=stream_state, stream_slice=stream_slice)  # type: ignore[union-attr]


_MISSING = object()


@dataclass
class KeepOnlyV1Id(RecordTransformation):
    """Reduce a raw Personio v1 record to ``{"id": <its id>}``: the id ``FlattenAttributes`` would give it.

    For a parent stream whose records only provide partition ids (the employees list read for
    ``employees_absences_balance``). Personio quirk: a v1 employee is ``{type, attributes}`` with every
    column wrapped as ``{label, value, type, universal_id}``. Cost: flattening ~40 wrapped columns per
    employee and then letting the partition router find ``id`` with ``dpath`` (which walks the whole
    record) cost ~0.3 s CPU per 2,000 employees, for one value.
    """

    parameters: InitVar[Mapping[str, Any]] = None

    def transform(
        self,
        record: Dict[str, Any],
        config: Optional[Config] = None,
        stream_state: Optional[StreamState] = None,
        stream_slice: Optional[StreamSlice] = None,
    ) -> None:
        if _is_entity(record) and isinstance(record.get("attributes"), dict) and "id" in record["attributes"]:
            found, value = True, record["attributes"]["id"]
        else:
            found, value = "id" in record, record.get("id")
        record.clear()
        if found:
            record["id"] = flatten_value(value)
