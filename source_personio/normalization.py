"""Schema normalization: Personio's wire quirks undone against the stream's schema, with the CDK's
``TypeTransformer`` semantics compiled once per schema.

The manifest's ``schema_normalization`` components: :class:`BlankObjectsToNull` (an unset nested entity sent as
``""``) and :class:`CoerceEmployeeWireQuirks` (employees' 0/1 booleans, tags as one string, numbers as strings),
both built on :class:`CompiledSchemaNormalization`, which replaces the CDK default's walk:

``TypeTransformer.transform`` builds a jsonschema validator for every record and lets it walk the
record (``properties``, ``items``, ``type``) to call the normalization callback on each value and
log a warning for each value of the wrong type. For wide Personio employee rows that was ~5 % of a
sync's CPU. :class:`CompiledSchemaNormalization` does the same walk with a plan built once per
schema: same values changed, in the same order, same warnings.
"""

from __future__ import annotations

import json
import logging
import numbers
import threading
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple

from airbyte_cdk.sources.utils.transform import TransformConfig, TypeTransformer

logger = logging.getLogger("airbyte")

# jsonschema's draft 7 type checks (what TypeTransformer's validator uses)
_EXACT_TYPES: Dict[str, Tuple[type, ...]] = {
    "array": (list,),
    "boolean": (bool,),
    "integer": (int,),
    "null": (type(None),),
    "number": (int, float),
    "object": (dict,),
    "string": (str,),
}


def _is_type(value: Any, name: str) -> bool:
    if name == "array":
        return isinstance(value, list)
    if name == "boolean":
        return isinstance(value, bool)
    if name == "integer":
        if isinstance(value, bool):
            return False
        return isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    if name == "null":
        return value is None
    if name == "number":
        return not isinstance(value, bool) and isinstance(value, numbers.Number)
    if name == "object":
        return isinstance(value, dict)
    return isinstance(value, str)  # "string"


class _Unsupported(Exception):
    """A schema this plan does not model exactly ($ref, boolean subschemas, unknown types ...)."""


Converter = Optional[Callable[[Any], Any]]  # None: the value is kept as it is


class _Node:
    """What TypeTransformer's validator does for one (sub)schema, in the schema's key order."""

    __slots__ = ("ops",)

    def __init__(self, ops: List[Tuple[Any, ...]]) -> None:
        self.ops = ops


class CompiledSchemaNormalization(TypeTransformer):
    """A ``TypeTransformer`` (custom normalization only) whose walk is planned once per schema.

    Subclasses implement :meth:`converter_for`: the function a value under that subschema goes
    through (None when every value stays as it is). Schemas the plan does not model exactly fall
    back to ``TypeTransformer.transform``.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(TransformConfig.CustomSchemaNormalization)
        self.registerCustomTransform(self._normalize_value)
        self._plans: Dict[int, Tuple[Mapping[str, Any], Optional[_Node]]] = {}
        self._plans_lock = threading.Lock()

    # -- to implement ---------------------------------------------------------------------
    def converter_for(self, field_schema: Mapping[str, Any]) -> Converter:
        raise NotImplementedError

    def _normalize_value(self, value: Any, field_schema: Mapping[str, Any]) -> Any:
        """The per-value callback (the slow path and the specification of :meth:`converter_for`)."""
        convert = self.converter_for(field_schema)
        return value if convert is None else convert(value)

    # -- TypeTransformer --------------------------------------------------------------------
    def transform(self, record: Dict[str, Any], schema: Mapping[str, Any]) -> None:
        plan = self._plan(schema)
        if plan is None:
            super().transform(record, schema)
            return
        self._walk(plan, record, ())

    # -- the plan -------------------------------------------------------------------------------
    def _plan(self, schema: Mapping[str, Any]) -> Optional[_Node]:
        cached = self._plans.get(id(schema))
        if cached is not None and cached[0] is schema:
            return cached[1]
        try:
            node: Optional[_Node] = self._compile(schema)
        except _Unsupported:
            node = None
        with self._plans_lock:
            self._plans[id(schema)] = (schema, node)  # keeps the schema alive, so its id stays its own
        return node

    def _compile(self, schema: Any) -> _Node:
        if not isinstance(schema, Mapping):
            raise _Unsupported()
        ops: List[Tuple[Any, ...]] = []
        for key, value in schema.items():
            if key == "$ref":
                raise _Unsupported()
            if key == "type":
                names = [value] if isinstance(value, str) else value
                if not isinstance(names, list) or any(n not in _EXACT_TYPES for n in names):
                    raise _Unsupported()
                exact = tuple({t for n in names for t in _EXACT_TYPES[n]})
                ops.append(("type", exact, tuple(names), value))
            elif key == "properties":
                if not isinstance(value, Mapping):
                    raise _Unsupported()
                fields = []
                for name, subschema in value.items():
                    child = self._compile(subschema)
                    fields.append((name, self.converter_for(subschema), child if child.ops else None))
                ops.append(("properties", fields))
            elif key == "items":
                if not isinstance(value, Mapping):
                    raise _Unsupported()
                child = self._compile(value)
                ops.append(("items", self.converter_for(value), child if child.ops else None))
        return _Node(ops)

    def _walk(self, node: _Node, instance: Any, path: Tuple[Any, ...]) -> None:
        for op in node.ops:
            kind = op[0]
            if kind == "type":
                if type(instance) not in op[1] and not any(_is_type(instance, n) for n in op[2]):
                    field_path = ".".join(map(str, path))
                    logger.warning(
                        f"Failed to transform value from type '{self._get_type_structure(instance)}' "
                        f"to type '{op[3]}' at path: '{field_path}'"
                    )
            elif kind == "properties":
                if not isinstance(instance, dict):
                    continue
                fields = op[1]
                for name, convert, _ in fields:
                    if convert is not None and name in instance:
                        instance[name] = convert(instance[name])
                for name, _, child in fields:
                    if child is not None and name in instance:
                        self._walk(child, instance[name], path + (name,))
            else:  # items
                if not isinstance(instance, list):
                    continue
                convert, child = op[1], op[2]
                if convert is not None:
                    for index, item in enumerate(instance):
                        instance[index] = convert(item)
                if child is not None:
                    for index, item in enumerate(instance):
                        self._walk(child, item, path + (index,))


class BlankObjectsToNull(CompiledSchemaNormalization):
    """Schema normalization: a blank (``""``) where the schema expects an object or a list becomes null.

    Personio quirk: an unset nested entity (department, supervisor, cost centers, a time-off's
    certificate ...) is sometimes sent as ``""`` instead of null or an object. Only values whose
    schema does not also allow a string are touched, so a real empty string stays as it is.
    Cost: the walk over each record is planned once per schema (:class:`CompiledSchemaNormalization`).
    """

    @staticmethod
    def _blank_to_null(value: Any, field_schema: Mapping[str, Any]) -> Any:
        if value != "":
            return value
        types = field_schema.get("type")
        types = [types] if isinstance(types, str) else list(types or [])
        if ("object" in types or "array" in types) and "string" not in types:
            return None
        return value

    def converter_for(self, field_schema: Mapping[str, Any]) -> Optional[Callable[[Any], Any]]:
        types = field_schema.get("type")
        types = [types] if isinstance(types, str) else list(types or [])
        if ("object" in types or "array" in types) and "string" not in types:
            return _blank_to_none
        return None


def _blank_to_none(value: Any) -> Any:
    return None if value == "" else value


class CoerceEmployeeWireQuirks(CompiledSchemaNormalization):
    """Schema normalization for employees, whose schema is discovered from the attribute list:
    each value is coerced to the type its attribute declares.

    Personio quirks (v1 ``/company/employees``): booleans sent as ``0``/``1`` (or ``"0"``/``"1"``);
    an unset entity sent as ``""`` or ``[]`` where an object is declared (``""`` where a list of
    objects is); tags sent as one string, either a JSON array (``'["a","b"]'``) or comma
    separated (``"a,b"``); numbers sent as strings. Strings stay strings where the schema allows
    a string. After this, every record validates against the discovered schema.
    """

    # custom normalization only: the quirks are undone first, then the CDK's default conversion
    # runs (it would otherwise wrap a tags string into a one-item list before we could split it)

    @classmethod
    def _coerce_then_convert(cls, value: Any, field_schema: Mapping[str, Any]) -> Any:
        return TypeTransformer.default_convert(cls._coerce(value, field_schema), field_schema)

    def converter_for(self, field_schema: Mapping[str, Any]) -> Optional[Callable[[Any], Any]]:
        coerce_then_convert = self._coerce_then_convert
        if field_schema.get("type") == ["null", "string"]:
            # the common case: a string or null stays what it is (default_convert's str() of a str)
            def convert(value: Any) -> Any:
                if value is None or type(value) is str:
                    return value
                return coerce_then_convert(value, field_schema)

            return convert
        return lambda value: coerce_then_convert(value, field_schema)

    @staticmethod
    def _coerce(value: Any, field_schema: Mapping[str, Any]) -> Any:
        types = field_schema.get("type")
        types = [types] if isinstance(types, str) else list(types or [])
        if "string" in types or value is None:
            return value
        if "boolean" in types and value in (0, 1, "0", "1") and not isinstance(value, bool):
            return bool(int(value))
        if "object" in types and value in ("", []):
            return None
        if "array" in types:
            if value == "":
                items = (field_schema.get("items") or {}).get("type")
                items = [items] if isinstance(items, str) else list(items or [])
                return [] if "string" in items else None
            if isinstance(value, str):
                text = value.strip()
                if text.startswith("["):
                    try:
                        parsed = json.loads(text)
                    except ValueError:
                        parsed = None
                    if isinstance(parsed, list):
                        return parsed
                return [part.strip() for part in text.split(",") if part.strip()]
        return value

