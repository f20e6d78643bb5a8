"""A full read of every stream discover offers equals the sandbox's ground truth, by primary key, and every
record matches its stream's discovered JSON schema.

One sandbox of this module's own (40 employees, seed 1, nothing changed), read once in full refresh with the
default ``start_date`` (2020-01-01) and every discovered stream selected, the per-report ones included.
Ground truth per stream:

* v1 streams (employees, absence types, absences, document categories, custom reports and their rows,
  balances): rows stated field by field from the sandbox's generator in Personio's documented flat form
  (``expected_rows``), never by unwrapping an API response;
* v2 and recruiting streams, employee attributes and the Report API v2 list: the sandbox's ``/_sandbox/truth``
  (its data model rendered as the API renders a record, no paging or filter involved), parent ids added for
  the per-parent streams;
* ``report_v2_<name>``: the truth's positional cells under their column names (``expected_rows.v2_report_record``).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import tempfile

import jsonschema
import pytest

from airbyte_cdk.test.entrypoint_wrapper import discover
from personio_sandbox.testing import Sandbox

import expected_rows
from sandbox_helpers import by_key, records_by_stream, run_read, without_nulls
from source_personio.auth import clear_token_cache
from source_personio.source import SourcePersonio

EMPLOYEES, SEED = 40, 1
START_DATE = "2020-01-01"

# every stream discover always offers (the per-report streams come on top, one per report)
FIXED_STREAMS = (
    "employees", "absence_types", "absences", "attendances", "projects", "document_categories",
    "custom_reports_list", "custom_reports", "employees_absences_balance", "employee_attributes",
    "persons", "employments", "absence_periods", "absence_period_breakdowns", "legal_entities", "org_units",
    "cost_centers", "workplaces", "compensations", "compensation_types", "recruiting_candidates",
    "recruiting_applications", "recruiting_application_stage_transitions", "recruiting_jobs",
    "recruiting_categories", "reports_v2_list",
)
# streams whose truth resource is named differently, and the primary key of the per-parent ones
TRUTH_OF = {"reports_v2_list": "reports_v2"}
KEYS = {
    "employee_attributes": ("key",),
    "absence_period_breakdowns": ("absence_period_id", "date"),
    "recruiting_application_stage_transitions": ("application_id", "entered_at"),
}


def slug(name: str) -> str:
    """A report's part of its stream name: lower case, every run of other characters one underscore."""
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def last_day_of_this_month() -> str:
    today = dt.datetime.now(dt.timezone.utc).date()
    return str((today.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1))


@pytest.fixture(scope="module")
def sb():
    log_path = os.path.join(tempfile.gettempdir(), f"source-personio-it-full-read-{os.getpid()}.log")
    with Sandbox(employees=EMPLOYEES, seed=SEED, rate_limits="off", log_path=log_path) as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def full_read(sb):
    clear_token_cache()
    config = sb.config(retry_backoff_seconds=0.2, start_date=START_DATE)
    catalog = discover(SourcePersonio(config=config), config).catalog.catalog
    streams = {s.name: s for s in catalog.streams}
    clear_token_cache()  # the read mints its own tokens
    sb.reset_stats()
    output = run_read(config, list(streams))
    assert not output.errors, [e.trace.error.message for e in output.errors]
    return {"records": records_by_stream(output), "stats": sb.stats(), "streams": streams}


def expected(sb, stream):
    """The rows a full read of ``stream`` must give, by primary key."""
    if stream in expected_rows.V1_STREAMS:
        build, key = expected_rows.V1_STREAMS[stream]
        return by_key(build(expected_rows.company(SEED, EMPLOYEES)), *key)
    if stream == "compensations":
        return by_key(sb.truth("compensations", start_date=START_DATE, end_date=last_day_of_this_month()), "id")
    return by_key(sb.truth(TRUTH_OF.get(stream, stream)), *KEYS.get(stream, ("id",)))


def test_discover_offers_the_fixed_streams_and_one_stream_per_report(full_read, sb):
    reports_v1 = {"custom_report_" + slug(r["name"]) for r in expected_rows.custom_reports_list(expected_rows.company(SEED, EMPLOYEES))}
    served_v2 = {r["report_id"] for r in sb.truth("report_v2_columns")}
    reports_v2 = {"report_v2_" + slug(r["name"]) for r in sb.truth("reports_v2") if r["id"] in served_v2}
    assert reports_v1 and reports_v2
    assert set(full_read["streams"]) == set(FIXED_STREAMS) | reports_v1 | reports_v2


@pytest.mark.parametrize("stream", FIXED_STREAMS)
def test_stream_equals_ground_truth(full_read, sb, stream):
    want = expected(sb, stream)
    assert want, "the sandbox should have data for this stream"
    got = by_key(full_read["records"].get(stream, []), *(k[0] for k in full_read["streams"][stream].source_defined_primary_key))
    assert got.keys() == want.keys()
    for key, record in want.items():
        assert got[key] == without_nulls(record), key


def test_each_custom_report_stream_equals_its_report(full_read):
    c = expected_rows.company(SEED, EMPLOYEES)
    for report in c.reports:
        name = "custom_report_" + slug(report["name"])
        want = by_key(expected_rows.custom_report_stream(c, report), "employee_id", "effective_date")
        assert want
        assert by_key(full_read["records"].get(name, []), "employee_id", "effective_date") == want, name


def test_each_report_v2_stream_equals_its_report_rows(full_read, sb):
    rows, columns = {}, {}
    for each in sb.truth("report_v2_rows"):
        rows.setdefault(each["report_id"], []).append(each["row"])
    for each in sb.truth("report_v2_columns"):
        columns.setdefault(each["report_id"], []).append(each)
    for report in sb.truth("reports_v2"):
        if report["id"] not in columns:
            continue  # grouped: not offered (test_reports_v2.py)
        name = "report_v2_" + slug(report["name"])
        key = [k[0] for k in full_read["streams"][name].source_defined_primary_key]
        want = {tuple(r[k] for k in key): without_nulls(r)
                for r in (expected_rows.v2_report_record(row, columns[report["id"]]) for row in rows.get(report["id"], []))}
        assert want, name
        assert by_key(full_read["records"].get(name, []), *key) == want, name


def test_every_record_matches_its_stream_schema(full_read):
    assert set(full_read["records"]) == set(full_read["streams"]), "a discovered stream read no record"
    for stream, records in full_read["records"].items():
        validator = jsonschema.Draft7Validator(full_read["streams"][stream].json_schema)
        for record in records:
            errors = list(validator.iter_errors(record))
            assert not errors, f"{stream} record {record}: {errors[0].message}"


def test_full_read_uses_one_token_per_api_version_and_one_balance_request_per_employee(full_read):
    requests = full_read["stats"]["requests"]
    assert requests["POST /v1/auth"] == 1
    assert requests["POST /v2/auth/token"] == 1
    # one balance request per employee of the generated company
    assert requests["GET /v1/company/employees/{employee_id}/absences/balance"] == EMPLOYEES
