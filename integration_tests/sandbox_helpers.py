"""Integration tests run the connector in-process against one sandbox started for the session.

Ground truth comes from the sandbox itself (``Sandbox.dataset(path)``: the records exactly as
Personio's list endpoints serve them). ``personio_view`` turns those raw Personio records into
what a user expects to see in a flat table, independently of the connector's own code.
"""

from __future__ import annotations

import os
import tempfile
from typing import Any, Dict, Iterable, List, Mapping, Optional

import pytest

from airbyte_cdk.models import AirbyteStateMessage, SyncMode
from airbyte_cdk.test.catalog_builder import CatalogBuilder
from airbyte_cdk.test.entrypoint_wrapper import EntrypointOutput, read
from personio_sandbox.testing import Sandbox

from source_personio.auth import clear_token_cache
from source_personio.source import SourcePersonio

EMPLOYEES = int(os.environ.get("PERSONIO_IT_EMPLOYEES", "40"))
INCREMENTAL_STREAMS = ("employees", "absences", "attendances")
ALL_STREAMS = (
    "employees",
    "absence_types",
    "absences",
    "attendances",
    "projects",
    "document_categories",
    "custom_reports_list",
    "custom_reports",
    "employees_absences_balance",
)


@pytest.fixture(scope="session")
def sandbox():
    log_path = os.path.join(tempfile.gettempdir(), f"source-personio-it-sandbox-{os.getpid()}.log")
    with Sandbox(employees=EMPLOYEES, seed=1, rate_limits="off", log_path=log_path) as sb:
        yield sb


@pytest.fixture
def config(sandbox) -> Dict[str, Any]:
    clear_token_cache()
    return sandbox.config(retry_backoff_seconds=0.2)


def run_read(
    config: Mapping[str, Any],
    streams: Iterable[str],
    sync_mode: SyncMode = SyncMode.full_refresh,
    state: Optional[List[AirbyteStateMessage]] = None,
    expecting_exception: bool = False,
) -> EntrypointOutput:
    builder = CatalogBuilder()
    for name in streams:
        builder.with_stream(name, sync_mode)
    catalog = builder.build()
    source = SourcePersonio(catalog=catalog, config=config, state=state)
    return read(source, config, catalog, state, expecting_exception=expecting_exception)


def records_by_stream(output: EntrypointOutput) -> Dict[str, List[Dict[str, Any]]]:
    out: Dict[str, List[Dict[str, Any]]] = {}
    for message in output.records:
        out.setdefault(message.record.stream, []).append(message.record.data)
    return out


def final_states(output: EntrypointOutput) -> List[AirbyteStateMessage]:
    """The last state message of every stream, as the platform would persist it."""
    last: Dict[str, AirbyteStateMessage] = {}
    for message in output.state_messages:
        last[message.state.stream.stream_descriptor.name] = message.state
    return list(last.values())


# ------------------------------------------------------------------ expected values


def personio_view(value: Any) -> Any:
    """Personio v1 -> flat: {label, value, ...} attribute objects become their value and
    {"type": ..., "attributes": {...}} entities become a plain object (top-level keys kept); an attribute
    with a currency also gives <key>_currency."""
    if isinstance(value, list):
        return [personio_view(v) for v in value]
    if not isinstance(value, dict):
        return value
    if "value" in value and "label" in value:
        if value.get("type") == "tags" and isinstance(value["value"], str):
            # a tags attribute is one comma-separated string on the wire, a list of tags in the table
            return [tag for tag in value["value"].split(",") if tag]
        return personio_view(value["value"])
    if "type" in value and isinstance(value.get("attributes"), dict):
        flat = {k: personio_view(v) for k, v in value.items() if k not in ("type", "attributes")}
        flat.update({k: personio_view(v) for k, v in value["attributes"].items()})
        # a salary attribute's currency is a column beside the amount (fix_salary_currency, §10.5)
        flat.update({f"{k}_currency": v["currency"] for k, v in value["attributes"].items()
                     if isinstance(v, dict) and "value" in v and "label" in v and "currency" in v})
        return flat
    return {k: personio_view(v) for k, v in value.items()}


def without_nulls(value: Any) -> Any:
    """The Airbyte message serializer of airbyte-cdk omits null-valued keys from record data (a
    destination reads a missing column as null), so comparisons ignore null-valued keys."""
    if isinstance(value, dict):
        return {k: without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [without_nulls(v) for v in value]
    return value


def report_rows(report_id: str, report_type: str, items: List[Dict[str, Any]]) -> Dict[tuple, Dict[str, Any]]:
    rows: Dict[tuple, Dict[str, Any]] = {}
    for item in items:
        employee_id = item["employee_id"]
        if "historical_attributes" in item:
            for cell in item["historical_attributes"]:
                key = (report_id, employee_id, cell.get("effective_date") or "")
                row = rows.setdefault(key, {"report_id": report_id, "report_type": report_type, "employee_id": employee_id, "effective_date": key[2], "attributes": []})
                row["attributes"].append({k: v for k, v in cell.items() if k not in ("employee_id", "effective_date")})
        else:
            key = (report_id, employee_id, "")
            rows[key] = {
                "report_id": report_id,
                "report_type": report_type,
                "employee_id": employee_id,
                "effective_date": "",
                "attributes": [{k: v for k, v in c.items() if k not in ("employee_id", "effective_date")} for c in item.get("attributes") or []],
            }
    return rows


def by_key(records, *key):
    """Records keyed by their primary key (nulls dropped, as the CDK emits them); a repeated key fails."""
    out = {}
    for record in records:
        k = tuple(record[f] for f in key)
        assert k not in out, f"duplicate primary key {k}"
        out[k] = without_nulls(record)
    return out
