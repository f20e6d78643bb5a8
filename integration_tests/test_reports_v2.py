"""The Report API v2 streams (reports_v2_list, report_v2_<name>) against sandboxes of their own.

Ground truth: the sandbox's ``reports_v2`` / ``report_v2_rows`` / ``report_v2_columns`` (the data model, no
paging) and, for the v1/v2 comparison, the v1 ``custom_report_rows`` of the same company."""

from __future__ import annotations

import json
import logging
import math
import re
import urllib.error
import urllib.request

import pytest

from airbyte_cdk.models import AirbyteStream, ConfiguredAirbyteCatalog, ConfiguredAirbyteStream, DestinationSyncMode, Level, SyncMode
from airbyte_cdk.test.entrypoint_wrapper import read
from personio_sandbox.testing import Sandbox

from expected_rows import v2_report_record
from sandbox_helpers import records_by_stream, run_read, without_nulls
from source_personio.auth import clear_token_cache
from source_personio.pagination import PersonioCursorPagination as PlainLinkCursorPagination
from source_personio.source import SourcePersonio

EMPLOYEES = 23
DEADLINE = "2027-06-30"


def v2_name(report_name: str) -> str:
    """report_v2_<name>: lower case, every run of other characters one underscore (Latin, unique names)."""
    return "report_v2_" + re.sub(r"[^a-z0-9]+", "_", report_name.lower()).strip("_")


@pytest.fixture(scope="module")
def sb():
    with Sandbox(employees=EMPLOYEES, seed=3, rate_limits="off") as sandbox:
        yield sandbox


@pytest.fixture
def cfg(sb):
    clear_token_cache()
    return sb.config(retry_backoff_seconds=0.1)


def discovered(cfg):
    return SourcePersonio(config=cfg).discover(logging.getLogger("airbyte"), cfg)


def catalog_of(streams):
    return ConfiguredAirbyteCatalog(
        streams=[
            ConfiguredAirbyteStream(stream=s, sync_mode=SyncMode.full_refresh, destination_sync_mode=DestinationSyncMode.overwrite)
            for s in streams
        ]
    )


def old_stream(name):
    """A report stream as an earlier discover offered it."""
    return AirbyteStream(
        name=name,
        json_schema={"type": "object", "properties": {"employee_id": {"type": ["null", "number"]}}},
        supported_sync_modes=[SyncMode.full_refresh],
        source_defined_primary_key=[["employee_id"]],
    )


def read_catalog(cfg, catalog, expecting_exception=False):
    return read(SourcePersonio(catalog=catalog, config=cfg), cfg, catalog, None, expecting_exception=expecting_exception)


def warnings_of(output):
    return [m.log.message for m in output.logs if m.log.level == Level.WARN]


def served_reports(sb):
    """The reports the Report API serves rows of, with their rows and columns, from the data model."""
    rows, columns = {}, {}
    for each in sb.truth("report_v2_rows"):
        rows.setdefault(each["report_id"], []).append(each["row"])
    for each in sb.truth("report_v2_columns"):
        columns.setdefault(each["report_id"], []).append(each)
    return [(r, rows.get(r["id"], []), columns[r["id"]]) for r in sb.truth("reports_v2") if r["id"] in columns]


# ------------------------------------------------------------------ full reads equal the truth


def test_each_report_type_reads_equal_to_the_sandbox_truth(sb, cfg):
    catalog = discovered(cfg)
    offered = {s.name: s for s in catalog.streams}
    reports = served_reports(sb)
    assert {r["type"] for r, _rows, _cols in reports} == {"point_in_time", "timeframe", "historical_data"}
    names = [v2_name(r["name"]) for r, _rows, _cols in reports]
    assert set(names) == {n for n in offered if n.startswith("report_v2_")}
    out = read_catalog(cfg, catalog_of([offered[n] for n in names]))
    got = records_by_stream(out)
    for (report, rows, columns), name in zip(reports, names):
        key = ["employee_id", "effective_date_from"] if report["type"] == "historical_data" else ["employee_id"]
        assert offered[name].source_defined_primary_key == [[k] for k in key]
        expected = {tuple(e[k] for k in key): without_nulls(e) for e in (v2_report_record(r, columns) for r in rows)}
        records = got.get(name, [])
        assert len(records) == len(rows) > 0
        actual = {tuple(r[k] for k in key): without_nulls(r) for r in records}
        assert len(actual) == len(records), f"{name}: primary key {key} not unique"
        assert actual == expected, name
        # every column is a typed field of the schema, named by the column's name
        props = offered[name].json_schema["properties"]
        for column in columns:
            if column["type"] == "TIME_RANGE":
                assert props[column["name"] + "_from"]["format"] == "date"
            else:
                assert props[column["name"]]["type"] == {"NUMERIC": ["null", "number"], "STRING": ["null", "string"], "OPTIONS": ["null", "array"]}[column["type"]]


def test_report_list_equals_the_api_enabled_reports(sb, cfg):
    out = run_read(cfg, ["reports_v2_list"])
    got = sorted((without_nulls(r) for r in records_by_stream(out)["reports_v2_list"]), key=lambda r: r["id"])
    assert got == sorted((without_nulls(r) for r in sb.truth("reports_v2")), key=lambda r: r["id"])
    v1_names = {r["attributes"]["name"] for r in sb.truth("custom_reports_list")}
    assert "Salary overview" in v1_names and "Salary overview" not in {r["name"] for r in got}


# ------------------------------------------------------------------ pagination


def test_report_rows_come_in_several_pages_of_cursor_and_limit_only(sb, cfg, monkeypatch):
    monkeypatch.setattr(PlainLinkCursorPagination, "get_page_size", lambda self: 4)
    catalog = discovered(cfg)  # schemas from discover: the read asks only for rows
    streams = [s for s in catalog.streams if s.name.startswith("report_v2_")] + [
        s for s in catalog.streams if s.name == "reports_v2_list"
    ]
    sb._call("POST", "/_sandbox/stats/reset")
    out = read_catalog(cfg, catalog_of(streams))
    stats = sb.stats()["requests"]
    reports = served_reports(sb)
    pages = sum(math.ceil(len(rows) / 4) for _r, rows, _c in reports)
    assert pages >= 3 * len(reports)  # several pages per report
    assert stats.get("GET /v2/reports/{id}") == pages
    got = records_by_stream(out)
    assert sum(len(got.get(v2_name(r["name"]), [])) for r, _rows, _c in reports) == sum(len(rows) for _r, rows, _c in reports)
    assert len(got["reports_v2_list"]) == len(sb.truth("reports_v2"))
    assert not [m for m in out.errors]


def test_the_sandbox_rejects_a_cursor_with_other_parameters(sb, cfg):
    """The rule the connector's paging obeys is live: a filter beside a cursor is refused with 400."""
    token = json.loads(
        urllib.request.urlopen(
            urllib.request.Request(
                sb.url + "/v2/auth/token",
                data=f"grant_type=client_credentials&client_id={cfg['client_id']}&client_secret={cfg['client_secret']}".encode(),
            )
        ).read()
    )["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    first = json.loads(urllib.request.urlopen(urllib.request.Request(sb.url + "/v2/reports?limit=1", headers=headers)).read())
    nxt = first["_meta"]["links"]["next"]
    assert isinstance(nxt, str)
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(urllib.request.Request(nxt + "&name=Head", headers=headers))
    assert refused.value.code == 400


# ------------------------------------------------------------------ grouped, not enabled, gone


def test_grouped_report_is_not_offered_and_skipped_with_a_warning_at_read(sb, cfg, caplog):
    served = {r["id"] for r, _rows, _cols in served_reports(sb)}
    grouped = [r for r in sb.truth("reports_v2") if r["id"] not in served]
    assert [r["name"] for r in grouped] == ["Headcount by department"]
    with caplog.at_level(logging.WARNING):
        names = {s.name for s in discovered(cfg).streams}
    assert "report_v2_headcount_by_department" not in names
    assert any("report_v2_headcount_by_department" in m and "grouped" in m for m in caplog.messages)
    # a catalog from before the report was grouped: the stream is read, Personio's 400 skips it with a warning
    listed = next(s for s in discovered(cfg).streams if s.name == "reports_v2_list")
    out = read_catalog(cfg, catalog_of([old_stream("report_v2_headcount_by_department"), listed]))
    assert any("report_v2_headcount_by_department" in w for w in warnings_of(out)), warnings_of(out)
    assert not out.errors
    assert "report_v2_headcount_by_department" not in records_by_stream(out)


def test_report_not_enabled_for_api_access_has_no_v2_stream_but_keeps_its_v1_one(sb, cfg):
    names = {s.name for s in discovered(cfg).streams}
    assert "custom_report_salary_overview" in names
    assert "report_v2_salary_overview" not in names


def test_catalog_naming_a_gone_report_stream_skips_it_with_a_warning(sb, cfg):
    catalog = discovered(cfg)
    keep = next(s for s in catalog.streams if s.name == "reports_v2_list")
    out = read_catalog(cfg, catalog_of([keep, old_stream("report_v2_a_report_deleted_since")]))
    assert not out.errors
    assert any("report_v2_a_report_deleted_since" in w and "no longer offers" in w for w in warnings_of(out))
    assert len(records_by_stream(out)["reports_v2_list"]) == len(sb.truth("reports_v2"))


# ------------------------------------------------------------------ the reports right


def test_without_the_reports_right_v2_report_streams_are_skipped_naming_the_right(sb):
    sb.add_credential({"client_id": "no-reports-right", "client_secret": "no-reports-secret", "missing_rights": ["reports"]})
    clear_token_cache()
    cfg = sb.config(retry_backoff_seconds=0.1, client_id="no-reports-right", client_secret="no-reports-secret")
    status = SourcePersonio(config=cfg).check(logging.getLogger("airbyte"), cfg)
    assert status.status.name == "SUCCEEDED", status.message
    assert "reports right" in status.message
    names = {s.name for s in discovered(cfg).streams}
    assert "reports_v2_list" in names and not [n for n in names if n.startswith("report_v2_")]
    out = run_read(cfg, ["reports_v2_list", "document_categories"])
    assert not out.errors
    skipped = [w for w in warnings_of(out) if w.startswith("Skipped stream reports_v2_list")]
    assert len(skipped) == 1 and "reports right" in skipped[0] and "Unauthorized token" in skipped[0]
    assert records_by_stream(out).get("document_categories")


# ------------------------------------------------------------------ names


def test_same_named_and_non_latin_reports_get_stable_unique_names():
    with Sandbox(employees=8, seed=3, rate_limits="off", tenant="shapes") as sandbox:
        clear_token_cache()
        cfg = sandbox.config(retry_backoff_seconds=0.1)
        names = {s.name for s in discovered(cfg).streams}
        twins = sorted((r for r in sandbox.truth("reports_v2") if r["name"] == "Headcount today"), key=lambda r: (r["created_at"], r["id"]))
        assert len(twins) == 2
        assert "report_v2_headcount_today" in names
        assert "report_v2_headcount_today_" + twins[1]["id"].replace("-", "")[:8] in names
        for r in sandbox.truth("reports_v2"):
            if not re.search("[A-Za-z]", r["name"]):
                assert "report_v2_" + r["id"].replace("-", "")[:8] in names
                assert "custom_report_" + r["id"].replace("-", "")[:8] in names
        v1_twins = [r["attributes"] for r in sandbox.truth("custom_reports_list") if r["attributes"]["name"] == "Headcount today"]
        assert {"custom_report_headcount_today", "custom_report_headcount_today_" + sorted(v1_twins, key=lambda a: (a["created_at"], a["id"]))[1]["id"].replace("-", "")[:8]} <= names
        # the same names on a second discover
        clear_token_cache()
        assert names == {s.name for s in discovered(cfg).streams}


# ------------------------------------------------------------------ migration


def test_v1_report_streams_log_the_deprecation_once_and_v2_ones_do_not(sb, cfg):
    out = run_read(cfg, ["custom_reports_list", "custom_reports", "reports_v2_list"])
    lines = [w for w in warnings_of(out) if DEADLINE in w]
    assert len(lines) == 1 and "custom_reports_list" in lines[0] and "report_v2_" in lines[0]
    out = run_read(cfg, ["reports_v2_list"])
    assert not [w for w in warnings_of(out) if DEADLINE in w]


def test_check_logs_the_v1_deprecation(sb, cfg, caplog):
    with caplog.at_level(logging.WARNING):
        status = SourcePersonio(config=cfg).check(logging.getLogger("airbyte"), cfg)
    assert status.status.name == "SUCCEEDED"
    assert len([m for m in caplog.messages if DEADLINE in m]) == 1


def test_v1_and_v2_read_of_the_same_report_side_by_side(sb, cfg, capsys):
    """Both reads of each report type hold the same people and values; the numbers go to the closing note."""
    catalog = discovered(cfg)
    offered = {s.name: s for s in catalog.streams}
    pairs = []
    for report, _rows, _cols in served_reports(sb):
        slug = re.sub(r"[^a-z0-9]+", "_", report["name"].lower()).strip("_")
        pairs.append((report, "custom_report_" + slug, "report_v2_" + slug))
    out = read_catalog(cfg, catalog_of([offered[n] for _r, a, b in pairs for n in (a, b)]))
    got = records_by_stream(out)
    lines = []
    for report, v1, v2 in pairs:
        a, b = got[v1], got[v2]
        assert len(a) == len(b)
        if report["type"] == "historical_data":
            assert {(r["employee_id"], r["effective_date"]) for r in a} == {(r["employee_id"], r["effective_date_from"]) for r in b}
        assert {(r["employee_id"], r["first_name"], r["department"]) for r in a} == {(r["employee_id"], r["first_name"], r["department"][0]) for r in b}
        assert {float(r["fix_salary"]["amount"]) for r in a} == {r["fix_salary"] for r in b}
        lines.append(
            f"{report['type']}: {v1} {len(a)} rows, columns {sorted(offered[v1].json_schema['properties'])} | "
            f"{v2} {len(b)} rows, columns {sorted(offered[v2].json_schema['properties'])}"
        )
    with capsys.disabled():
        print("\n" + "\n".join(lines))


def test_a_catalog_of_gone_report_streams_only_is_a_config_error(sb, cfg):
    out = read_catalog(cfg, catalog_of([old_stream("report_v2_a_report_deleted_since")]), expecting_exception=True)
    assert [e.trace.error.failure_type.value for e in out.errors] == ["config_error"]
    assert "report_v2_a_report_deleted_since" in out.errors[0].trace.error.message
