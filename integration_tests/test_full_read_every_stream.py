"""A full read of every stream equals the sandbox's ground truth, by primary key, and every record
matches its stream's JSON schema."""

from __future__ import annotations

import time

import jsonschema
import pytest

from airbyte_cdk.test.entrypoint_wrapper import discover

from sandbox_helpers import ALL_STREAMS, by_key, personio_view, records_by_stream, report_rows, run_read
from source_personio.source import SourcePersonio


@pytest.fixture(scope="module")
def full_read(sandbox):
    from source_personio.components import clear_token_cache

    clear_token_cache()
    config = sandbox.config(retry_backoff_seconds=0.2)
    sandbox.reset_stats()
    started = time.monotonic()
    output = run_read(config, ALL_STREAMS)
    elapsed = time.monotonic() - started
    assert not output.errors, [e.trace.error.message for e in output.errors]
    return {"records": records_by_stream(output), "stats": sandbox.stats(), "seconds": elapsed, "config": config}


V1_LISTS = {
    "employees": "/v1/company/employees",
    "absence_types": "/v1/company/time-off-types",
    "absences": "/v1/company/time-offs",
    "document_categories": "/v1/company/document-categories",
    "custom_reports_list": "/v1/company/custom-reports/reports",
}
V2_LISTS = {"attendances": "/v2/attendance-periods", "projects": "/v2/projects"}


@pytest.mark.parametrize("stream", sorted(V1_LISTS))
def test_v1_stream_equals_ground_truth_flattened(full_read, sandbox, stream):
    expected = by_key([personio_view(r) for r in sandbox.dataset(V1_LISTS[stream])], "id")
    actual = by_key(full_read["records"].get(stream, []), "id")
    assert expected, "the sandbox should have data for this stream"
    assert actual.keys() == expected.keys()
    for key, record in expected.items():
        assert actual[key] == record, key


@pytest.mark.parametrize("stream", sorted(V2_LISTS))
def test_v2_stream_equals_ground_truth(full_read, sandbox, stream):
    expected = by_key(sandbox.dataset(V2_LISTS[stream]), "id")
    actual = by_key(full_read["records"].get(stream, []), "id")
    assert expected
    assert actual == expected


def test_custom_reports_rows_equal_every_report_row(full_read, sandbox):
    expected = {}
    for report in sandbox.dataset("/v1/company/custom-reports/reports"):
        meta = report["attributes"]
        expected.update(report_rows(meta["id"], meta["type"], sandbox.dataset(f"/v1/company/custom-reports/reports/{meta['id']}")))
    actual = by_key(full_read["records"]["custom_reports"], "report_id", "employee_id", "effective_date")
    assert expected
    assert actual.keys() == expected.keys()
    assert actual == expected


def test_absence_balances_cover_every_employee(full_read, sandbox):
    expected = {}
    for employee in sandbox.dataset("/v1/company/employees"):
        employee_id = employee["attributes"]["id"]["value"]
        for balance in sandbox.dataset(f"/v1/company/employees/{employee_id}/absences/balance"):
            expected[(employee_id, balance["id"])] = {**balance, "employee_id": employee_id}
    actual = by_key(full_read["records"]["employees_absences_balance"], "employee_id", "id")
    assert len({k[0] for k in actual}) == len(sandbox.dataset("/v1/company/employees"))
    assert actual == expected


def test_every_record_matches_its_stream_schema(full_read, sandbox):
    catalog = discover(SourcePersonio(config=full_read["config"]), full_read["config"]).catalog.catalog
    schemas = {s.name: s.json_schema for s in catalog.streams}
    assert set(ALL_STREAMS) <= set(schemas)  # issue-5 streams: integration_tests/test_new_streams.py
    for stream, records in full_read["records"].items():
        validator = jsonschema.Draft7Validator(schemas[stream])
        for record in records:
            errors = list(validator.iter_errors(record))
            assert not errors, f"{stream} record {record.get('id')}: {errors[0].message}"


def test_full_read_uses_one_token_per_api_version_and_no_wasted_pages(full_read):
    requests = full_read["stats"]["requests"]
    assert requests["POST /v1/auth"] == 1
    assert requests["POST /v2/auth/token"] == 1
    employees = len(full_read["records"]["employees"])
    # one balance request per employee; employee pages of 100, read at most twice (the stream
    # itself and the parent of the balances, which the CDK usually serves from its HTTP cache)
    assert requests["GET /v1/company/employees/{employee_id}/absences/balance"] == employees
    assert 1 <= requests["GET /v1/company/employees"] <= 2 * (employees // 100 + 1)
