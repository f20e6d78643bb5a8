"""Issue-5 streams (v2 HR data, recruiting, employee attributes) against a small sandbox of their own:
a full read equals the sandbox's ground truth by primary key, every record matches the discovered
schema, and incremental streams return exactly the changed records after ``sandbox.mutate``."""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
import urllib.request

import jsonschema
import pytest

from airbyte_cdk.models import SyncMode
from airbyte_cdk.test.entrypoint_wrapper import discover
from personio_sandbox.testing import Sandbox

from sandbox_helpers import by_key, final_states, records_by_stream, run_read, without_nulls
from source_personio.components import clear_token_cache
from source_personio.source import SourcePersonio

V2_HR = (
    "persons",
    "employments",
    "absence_periods",
    "absence_period_breakdowns",
    "legal_entities",
    "org_units",
    "cost_centers",
    "workplaces",
    "compensations",
    "compensation_types",
)
RECRUITING = (
    "recruiting_candidates",
    "recruiting_applications",
    "recruiting_application_stage_transitions",
    "recruiting_jobs",
    "recruiting_categories",
)
NEW_STREAMS = ("employee_attributes",) + V2_HR + RECRUITING
# one list path per stream whose records are served as they are
PLAIN_LISTS = {
    "persons": "/v2/persons",
    "absence_periods": "/v2/absence-periods",
    "legal_entities": "/v2/legal-entities",
    "cost_centers": "/v2/cost-centers",
    "workplaces": "/v2/workplaces",
    "compensation_types": "/v2/compensations/types",
    "recruiting_candidates": "/v2/recruiting/candidates",
    "recruiting_applications": "/v2/recruiting/applications",
    "recruiting_jobs": "/v2/recruiting/jobs",
    "recruiting_categories": "/v2/recruiting/categories",
}
START_DATE = "2024-01-01"


@pytest.fixture(scope="module")
def sb():
    log_path = os.path.join(tempfile.gettempdir(), f"source-personio-it-new-streams-{os.getpid()}.log")
    with Sandbox(employees=15, seed=5, rate_limits="off", log_path=log_path) as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def cfg(sb):
    return sb.config(retry_backoff_seconds=0.2, start_date=START_DATE)


@pytest.fixture(scope="module")
def full_read(sb, cfg):
    clear_token_cache()
    output = run_read(cfg, NEW_STREAMS)
    assert not output.errors, [e.trace.error.message for e in output.errors]
    return records_by_stream(output)


def v1_get(sb, path):
    """GET a v1 path with the default credential, as Personio serves it (no dataset endpoint for it)."""
    body = json.dumps({"client_id": sb.client_id, "client_secret": sb.client_secret}).encode()
    request = urllib.request.Request(sb.url + "/v1/auth", data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request) as r:
        token = json.loads(r.read())["data"]["token"]
    request = urllib.request.Request(sb.url + path, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request) as r:
        return json.loads(r.read())["data"]


def months(start: dt.date, end: dt.date):
    """Calendar-month windows covering start..end (the ground truth is asked month by month)."""
    first = start.replace(day=1)
    while first <= end:
        nxt = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
        yield first, nxt - dt.timedelta(days=1)
        first = nxt


# ------------------------------------------------------------------ full read = ground truth


@pytest.mark.parametrize("stream", sorted(PLAIN_LISTS))
def test_v2_list_stream_equals_ground_truth(full_read, sb, stream):
    expected = by_key(sb.dataset(PLAIN_LISTS[stream]), "id")
    assert expected, "the sandbox should have data for this stream"
    assert by_key(full_read.get(stream, []), "id") == expected


def test_employee_attributes_equal_the_attribute_list(full_read, sb):
    expected = by_key(v1_get(sb, "/v1/company/employees/attributes"), "key")
    assert any(k[0].startswith("dynamic_") for k in expected)
    assert by_key(full_read["employee_attributes"], "key") == expected


def test_employments_cover_every_person(full_read, sb):
    expected = {}
    for person in sb.dataset("/v2/persons"):
        expected.update(by_key(sb.dataset(f"/v2/persons/{person['id']}/employments"), "id"))
    assert len(expected) >= len(sb.dataset("/v2/persons"))
    assert by_key(full_read["employments"], "id") == expected


def test_absence_period_breakdowns_cover_every_absence_period_by_day(full_read, sb):
    expected = {}
    for period in sb.dataset("/v2/absence-periods"):
        for day in sb.dataset(f"/v2/absence-periods/{period['id']}/breakdowns"):
            expected[(period["id"], day["date"])] = {**day, "absence_period_id": period["id"]}
    assert by_key(full_read["absence_period_breakdowns"], "absence_period_id", "date") == expected


def test_org_units_include_every_org_unit_type(full_read, sb):
    expected = {}
    for unit_type in ("department", "team"):
        expected.update(by_key(sb.dataset(f"/v2/org-units?type={unit_type}"), "id"))
    actual = by_key(full_read["org_units"], "id")
    assert {r["type"] for r in actual.values()} == {"department", "team"}
    assert actual == expected


def test_compensations_equal_every_month_from_start_date_until_today(full_read, sb):
    expected = {}
    for first, last in months(dt.date.fromisoformat(START_DATE), dt.datetime.now(dt.timezone.utc).date()):
        expected.update(by_key(sb.dataset(f"/v2/compensations?start_date={first}&end_date={last}"), "id"))
    assert expected
    assert by_key(full_read["compensations"], "id") == expected


def test_stage_transitions_cover_every_application(full_read, sb):
    expected = {}
    for application in sb.dataset("/v2/recruiting/applications"):
        for transition in sb.dataset(f"/v2/recruiting/applications/{application['id']}/stage-transitions"):
            expected[(application["id"], transition["entered_at"])] = {**transition, "application_id": application["id"]}
    assert by_key(full_read["recruiting_application_stage_transitions"], "application_id", "entered_at") == expected


def test_every_new_stream_record_matches_the_discovered_schema(full_read, cfg):
    catalog = discover(SourcePersonio(config=cfg), cfg).catalog.catalog
    schemas = {s.name: s.json_schema for s in catalog.streams}
    assert set(NEW_STREAMS) <= set(schemas)
    for stream in NEW_STREAMS:
        assert full_read.get(stream), f"no records for {stream}"
        validator = jsonschema.Draft7Validator(schemas[stream])
        for record in full_read[stream]:
            errors = list(validator.iter_errors(record))
            assert not errors, f"{stream}: {errors[0].message}"


# ------------------------------------------------------------------ incremental


def cursor_of(state_message) -> str:
    """updated_at of a stream state; a substream's global cursor keeps it under "state"."""
    blob = state_message.stream.stream_state.__dict__
    return (blob.get("state") or blob)["updated_at"]


INCREMENTAL = {
    # stream: (list path of the ground truth, how the filter compares)
    "persons": ("/v2/persons", "gt"),
    "absence_periods": ("/v2/absence-periods", "gte"),
    "recruiting_candidates": ("/v2/recruiting/candidates", "gt"),
    "recruiting_applications": ("/v2/recruiting/applications", "gt"),
}


def changed_between(before, after):
    """ids of records created or changed between two ground-truth snapshots."""
    old = {r["id"]: r for r in before}
    return {r["id"] for r in after if old.get(r["id"]) != r}


def test_second_incremental_sync_returns_exactly_the_changed_records(sb, cfg):
    streams = list(INCREMENTAL) + ["employments"]
    clear_token_cache()
    first = run_read(cfg, streams, SyncMode.incremental)
    assert not first.errors, [e.trace.error.message for e in first.errors]
    state = final_states(first)
    old_cursor = {s.stream.stream_descriptor.name: cursor_of(s) for s in state}
    for stream in INCREMENTAL:
        # the state is the newest updated_at read, even from lists served newest first
        newest = max(r["updated_at"] for r in records_by_stream(first)[stream])
        assert old_cursor[stream][:19] == newest[:19], stream

    persons_before = sb.dataset("/v2/persons")
    before = {stream: sb.dataset(path) for stream, (path, _) in INCREMENTAL.items()}
    employments_before = [m for p in persons_before for m in sb.dataset(f"/v2/persons/{p['id']}/employments")]
    sb.mutate(create=2, update=3, resources=["employees", "absences", "candidates", "applications"])

    clear_token_cache()
    second = run_read(cfg, streams, SyncMode.incremental, state=state)
    assert not second.errors, [e.trace.error.message for e in second.errors]
    got_all = records_by_stream(second)
    for stream, (path, op) in INCREMENTAL.items():
        after = sb.dataset(path)
        truth = {r["id"]: r for r in after}
        changed = changed_between(before[stream], after)
        assert changed, f"the sandbox changed no {stream}"
        got = {r["id"]: r for r in got_all.get(stream, [])}
        unchanged = set(got) - changed
        if op == "gt":
            assert not unchanged, f"{stream}: unchanged records re-read: {sorted(unchanged)}"
        else:  # updated_at.gte re-reads only the records at the boundary itself
            assert all(got[i]["updated_at"][:19] == old_cursor[stream][:19] for i in unchanged), stream
        assert changed <= set(got), f"{stream}: missing {sorted(changed - set(got))}"
        for record_id in changed:
            assert without_nulls(got[record_id]) == without_nulls(truth[record_id]), (stream, record_id)

    # employments: exactly those created or changed (employments of created and updated persons)
    employments_after = [m for p in sb.dataset("/v2/persons") for m in sb.dataset(f"/v2/persons/{p['id']}/employments")]
    changed = changed_between(employments_before, employments_after)
    assert changed
    got = by_key(got_all.get("employments", []), "id")
    truth = by_key(employments_after, "id")
    assert {(i,) for i in changed} <= set(got)
    # The CDK's global substream cursor re-reads a window as long as the previous sync took
    # (state "lookback_window", seconds), and the connector 5 minutes more (CLOCK_SKEW_MARGIN), before
    # the state: only such boundary records may come again.
    from source_personio.cursors import CLOCK_SKEW_MARGIN

    employments_state = next(s for s in state if s.stream.stream_descriptor.name == "employments").stream.stream_state.__dict__
    floor = dt.datetime.fromisoformat(old_cursor["employments"].replace("Z", "+00:00")) - dt.timedelta(
        seconds=employments_state.get("lookback_window", 0)
    ) - CLOCK_SKEW_MARGIN
    for key in set(got) - {(i,) for i in changed}:
        assert dt.datetime.fromisoformat(got[key]["updated_at"].replace("Z", "+00:00")) > floor, key
    assert got == {k: truth[k] for k in got}

    new_cursor = {s.stream.stream_descriptor.name: cursor_of(s) for s in final_states(second)}
    for stream in streams:
        assert new_cursor[stream] > old_cursor[stream], stream


# ------------------------------------------------------------------ discovered employees schema


def test_employees_match_the_schema_discovered_from_the_attribute_list(sb, cfg):
    clear_token_cache()
    schema = next(s for s in discover(SourcePersonio(config=cfg), cfg).catalog.catalog.streams if s.name == "employees").json_schema
    attributes = v1_get(sb, "/v1/company/employees/attributes")
    # one column per attribute, by key; labels never become columns
    # (plus <key>_currency beside each salary attribute, whose values carry a currency, §10.5)
    salaries = {a["key"] + "_currency" for a in attributes if a["key"] in ("fix_salary", "hourly_salary")}
    assert set(schema["properties"]) == {a["key"] for a in attributes} | salaries
    assert not {a["label"] for a in attributes if a["label"] != a["key"]} & set(schema["properties"])
    clear_token_cache()
    output = run_read(cfg, ["employees"])
    assert not output.errors
    employees = records_by_stream(output)["employees"]
    validator = jsonschema.Draft7Validator(schema)
    for record in employees:
        errors = list(validator.iter_errors(record))
        assert not errors, f"employee {record['id']}: {errors[0].message}"
    # tags are lists, the same ones the v2 person shows
    tags_key = next(a["key"] for a in attributes if a["type"] == "tags")
    v2_tags = {
        int(p["id"]): next(c["value"] for c in p["custom_attributes"] if c["id"] == tags_key) for p in sb.dataset("/v2/persons")
    }
    assert {r["id"]: r.get(tags_key) for r in employees} == v2_tags


# ------------------------------------------------------------------ one stream per custom report


def report_stream_name(report_name: str) -> str:
    """custom_report_<name>: lower case, every run of other characters one underscore."""
    import re

    return "custom_report_" + re.sub(r"[^a-z0-9]+", "_", report_name.lower()).strip("_")


def test_each_custom_report_is_a_stream_equal_to_its_rows(sb, cfg):
    clear_token_cache()
    catalog = discover(SourcePersonio(config=cfg), cfg).catalog.catalog
    schemas = {s.name: s for s in catalog.streams}
    reports = [r["attributes"] for r in sb.dataset("/v1/company/custom-reports/reports")]
    assert "custom_report_headcount_today" in schemas
    assert "custom_reports" in schemas  # the long table stays
    columns = v1_get(sb, "/v1/company/custom-reports/columns")["attributes"]
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
        expected = {}
        for item in sb.dataset(f"/v1/company/custom-reports/reports/{report['id']}"):
            cells = item.get("historical_attributes") or item.get("attributes")
            for cell in cells:
                key = (item["employee_id"], cell.get("effective_date", ""))
                row = expected.setdefault(key, {"employee_id": item["employee_id"], "effective_date": key[1]})
                if cell["data_type"] in ("TEXT", "ENTITY"):
                    row[cell["attribute_id"]] = cell["value"]
                else:
                    # the cell's own fields (amount, currency ...), without the row's keys
                    row[cell["attribute_id"]] = {
                        k: v for k, v in cell.items() if k not in ("attribute_id", "data_type", "employee_id", "effective_date")
                    }
        assert expected
        if report["type"] == "historical_data":
            assert all(k[1] for k in expected)  # historical rows carry their effective date
        assert by_key(got[name], "employee_id", "effective_date") == {k: without_nulls(v) for k, v in expected.items()}
        validator = jsonschema.Draft7Validator(stream.json_schema)
        for record in got[name]:
            errors = list(validator.iter_errors(record))
            assert not errors, f"{name}: {errors[0].message}"
