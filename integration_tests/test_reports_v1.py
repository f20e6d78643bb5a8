"""One stream per v1 custom report (``custom_report_<name>``): discover offers one per report of the account
beside the long ``custom_reports`` table, named from the report's name, keyed by employee and effective date,
its columns named by ``attribute_id`` (never the human-readable label); a read equals the report's rows stated
from the sandbox's generated company (expected_rows.custom_report_stream) and matches the schema."""

from __future__ import annotations

import os
import re
import tempfile

import jsonschema
import pytest

from airbyte_cdk.test.entrypoint_wrapper import discover
from personio_sandbox.testing import Sandbox

import expected_rows
from sandbox_helpers import by_key, personio_get, records_by_stream, run_read
from source_personio.auth import clear_token_cache
from source_personio.source import SourcePersonio

EMPLOYEES, SEED = 15, 5


@pytest.fixture(scope="module")
def sb():
    log_path = os.path.join(tempfile.gettempdir(), f"source-personio-it-reports-v1-{os.getpid()}.log")
    with Sandbox(employees=EMPLOYEES, seed=SEED, rate_limits="off", log_path=log_path) as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def cfg(sb):
    return sb.config(retry_backoff_seconds=0.2, start_date="2024-01-01")


def report_stream_name(report_name: str) -> str:
    """custom_report_<name>: lower case, every run of other characters one underscore."""
    return "custom_report_" + re.sub(r"[^a-z0-9]+", "_", report_name.lower()).strip("_")


def test_each_custom_report_is_a_stream_equal_to_its_rows(sb, cfg):
    clear_token_cache()
    catalog = discover(SourcePersonio(config=cfg), cfg).catalog.catalog
    schemas = {s.name: s for s in catalog.streams}
    reports = [r["attributes"] for r in sb.dataset("/v1/company/custom-reports/reports")]
    assert "custom_report_headcount_today" in schemas
    assert "custom_reports" in schemas  # the long table stays
    columns = personio_get(sb, "/v1/company/custom-reports/columns")["attributes"]
    names = {report_stream_name(r["name"]): r for r in reports}
    assert {n for n in schemas if n.startswith("custom_report_")} == set(names)

    clear_token_cache()
    output = run_read(cfg, list(names))
    assert not output.errors, [e.trace.error.message for e in output.errors]
    got = records_by_stream(output)
    for name, report in names.items():
        stream = schemas[name]
        assert stream.source_defined_primary_key == [["employee_id"], ["effective_date"]]
        # columns named by attribute_id, never by the human-readable label
        assert {c["attribute_id"] for c in columns} <= set(stream.json_schema["properties"])
        generated = next(r for r in expected_rows.company(SEED, EMPLOYEES).reports if r["id"] == report["id"])
        expected = by_key(expected_rows.custom_report_stream(expected_rows.company(SEED, EMPLOYEES), generated), "employee_id", "effective_date")
        assert expected
        if report["type"] == "historical_data":
            assert all(k[1] for k in expected)  # historical rows carry their effective date
        assert by_key(got[name], "employee_id", "effective_date") == expected
        validator = jsonschema.Draft7Validator(stream.json_schema)
        for record in got[name]:
            errors = list(validator.iter_errors(record))
            assert not errors, f"{name}: {errors[0].message}"
