"""Fault matrix: every fault Personio is known to produce, injected by the sandbox.

For each fault the read either completes with exactly the ground-truth primary keys (nothing
missing, nothing invented) or fails after a bounded number of requests with a clear error:
never a silent gap, never an endless loop (every test has a hard pytest timeout).

One module sandbox of 230 employees: employees span three v1 record-offset pages of 100,
absences five v1 page-number pages of 200; attendances are limited by start_date to ~57 v2
cursor pages. The last section injects the same kinds of faults into the session sandbox (40 employees) and
checks that records still match the discovered schema when nested objects come blank or unexpected.
"""

from __future__ import annotations

import datetime as dt

import time
from collections import Counter
from pathlib import Path
from typing import Any, Dict, List

import jsonschema
import pytest
import yaml

from airbyte_cdk.test.entrypoint_wrapper import discover
from personio_sandbox.testing import Sandbox

import source_personio.source as source_module
from expected_requests import page_number_pages, record_offset_pages
from expected_rows import v1_id
from sandbox_helpers import records_by_stream, run_read
from source_personio.auth import clear_token_cache
from source_personio.source import SourcePersonio

ATTENDANCE_SINCE = "2026-10-20"
PATHS = {
    "employees": "/v1/company/employees",
    "absences": "/v1/company/time-offs",
    "absence_types": "/v1/company/time-off-types",
    "attendances": f"/v2/attendance-periods?updated_at.gte={ATTENDANCE_SINCE}T00:00:00",
    "projects": "/v2/projects",
    "document_categories": "/v1/company/document-categories",
}
FAULT_PATH = {s: p.split("?")[0] for s, p in PATHS.items()}


def fewest_pages(stream: str, n: int) -> int:
    return page_number_pages(n, 200) if stream == "absences" else record_offset_pages(n, 100 if stream == "employees" else 200)


@pytest.fixture(scope="module")
def fsb():
    with Sandbox(employees=230, seed=7, rate_limits="off") as sb:
        yield sb


@pytest.fixture(scope="module")
def truth(fsb) -> Dict[str, List[Any]]:
    return {stream: sorted(v1_id(r) for r in fsb.dataset(path)) for stream, path in PATHS.items()}


@pytest.fixture
def sb(fsb):
    fsb.clear_faults()
    fsb.reset_stats()
    clear_token_cache()
    yield fsb
    fsb.clear_faults()


def cfg(sb, **overrides):
    return sb.config(retry_backoff_seconds=0.05, start_date="2020-01-01", **overrides)


def att_cfg(sb, **overrides):
    return sb.config(retry_backoff_seconds=0.05, start_date=ATTENDANCE_SINCE, **overrides)


def config_for(sb, stream):
    return att_cfg(sb) if stream == "attendances" else cfg(sb)


def read_ids(output, stream) -> List[Any]:
    return [r["id"] for r in records_by_stream(output).get(stream, [])]


def assert_exact(output, stream, truth):
    assert not output.errors, [e.trace.error.message for e in output.errors]
    got = read_ids(output, stream)
    missing = sorted(set(truth[stream]) - set(got))
    extra = sorted(set(got) - set(truth[stream]))
    assert not missing, f"{stream}: {len(missing)} ground-truth records missing, e.g. {missing[:5]}"
    assert not extra, f"{stream}: records not in ground truth: {extra[:5]}"


def requests_to(sb, template) -> int:
    return sb.stats()["requests"].get(f"GET {template}", 0)


def status_count(sb, status) -> int:
    statuses = sb.stats()["statuses"]
    return statuses.get(str(status), 0) + statuses.get(status, 0)


def error_messages(output) -> List[str]:
    return [e.trace.error.message for e in output.errors]


# ------------------------------------------------------------------ transient server errors

RECOVERABLE_STREAMS = ["employees", "absences", "attendances"]


@pytest.mark.timeout(120)
@pytest.mark.parametrize("stream", RECOVERABLE_STREAMS)
def test_a_burst_of_503s_mid_pagination_is_retried_and_every_record_arrives(sb, truth, stream):
    sb.set_faults([{"kind": "status", "status": 503, "path": FAULT_PATH[stream], "after": 1, "count": 3}])
    output = run_read(config_for(sb, stream), [stream])
    assert_exact(output, stream, truth)
    assert status_count(sb, 503) == 3


@pytest.mark.timeout(120)
def test_a_server_error_that_never_ends_fails_after_six_attempts_with_a_clear_message(sb):
    sb.set_faults([{"kind": "status", "status": 500, "path": "/v1/company/time-off-types"}])
    started = time.monotonic()
    output = run_read(cfg(sb), ["absence_types"], expecting_exception=True)
    assert time.monotonic() - started < 60
    assert requests_to(sb, "/v1/company/time-off-types") == 6  # first attempt + max_retries 5
    assert not records_by_stream(output).get("absence_types")
    messages = error_messages(output)
    assert any("server error" in m and "absence_types" in m for m in messages), messages
    assert all("Traceback" not in m for m in messages)


@pytest.mark.timeout(120)
@pytest.mark.parametrize("stream", ["employees", "attendances"])
def test_a_429_storm_without_retry_after_is_absorbed_and_every_record_arrives(sb, truth, stream):
    # four 429s in a row on the second page, then (for attendances) more on later pages
    sb.set_faults([{"kind": "429", "path": FAULT_PATH[stream], "after": 1, "count": 4}])
    output = run_read(config_for(sb, stream), [stream])
    assert_exact(output, stream, truth)
    assert status_count(sb, 429) == 4


@pytest.mark.timeout(120)
def test_endless_429s_fail_after_bounded_retries_naming_the_rate_limit(sb):
    sb.set_faults([{"kind": "429", "path": "/v2/projects"}])
    output = run_read(cfg(sb), ["projects"], expecting_exception=True)
    assert requests_to(sb, "/v2/projects") == 6
    messages = error_messages(output)
    assert any("rate limit" in m.lower() and "projects" in m for m in messages), messages


# ------------------------------------------------------------------ slow, silent and broken connections


@pytest.mark.timeout(120)
def test_slow_responses_are_waited_for_and_every_record_arrives(sb, truth):
    sb.set_faults([{"kind": "latency", "ms": 700, "path": "/v1/company/time-offs", "count": 3}])
    output = run_read(cfg(sb), ["absences"])
    assert_exact(output, "absences", truth)
    pages = fewest_pages("absences", len(truth["absences"]))
    assert requests_to(sb, "/v1/company/time-offs") == pages  # waited for, not abandoned and retried


@pytest.fixture
def one_second_read_timeout(tmp_path, monkeypatch):
    """The shipped manifest with a 1 s read timeout, so a silent server is detected within a test."""
    manifest = yaml.safe_load(Path(source_module.MANIFEST_PATH).read_text())
    for name in ("requester_v1", "requester_v2"):
        manifest["definitions"][name]["read_timeout_in_seconds"] = 1
    patched = tmp_path / "manifest.yaml"
    patched.write_text(yaml.safe_dump(manifest, sort_keys=False))
    monkeypatch.setattr(source_module, "MANIFEST_PATH", patched)
    monkeypatch.chdir(Path(source_module.__file__).resolve().parent.parent)  # schemas are found relative to the repo


@pytest.mark.timeout(120)
def test_a_response_slower_than_the_read_timeout_is_abandoned_and_retried(sb, truth, one_second_read_timeout):
    sb.set_faults([{"kind": "latency", "ms": 3000, "path": "/v1/company/employees", "after": 1, "count": 2}])
    started = time.monotonic()
    output = run_read(cfg(sb), ["employees"])
    assert_exact(output, "employees", truth)
    assert time.monotonic() - started < 30
    assert requests_to(sb, "/v1/company/employees") == 3 + 2


@pytest.mark.timeout(120)
def test_a_server_that_never_answers_fails_after_bounded_retries(sb, one_second_read_timeout):
    sb.set_faults([{"kind": "latency", "ms": 4000, "path": "/v1/company/document-categories"}])
    started = time.monotonic()
    output = run_read(cfg(sb), ["document_categories"], expecting_exception=True)
    assert time.monotonic() - started < 60
    assert output.errors
    assert requests_to(sb, "/v1/company/document-categories") == 6
    assert not records_by_stream(output).get("document_categories")


@pytest.mark.timeout(120)
@pytest.mark.parametrize("stream", RECOVERABLE_STREAMS)
def test_connection_resets_are_retried_and_every_record_arrives(sb, truth, stream):
    sb.set_faults([{"kind": "reset", "path": FAULT_PATH[stream], "after": 1, "count": 3}])
    output = run_read(config_for(sb, stream), [stream])
    assert_exact(output, stream, truth)


@pytest.mark.timeout(120)
@pytest.mark.parametrize("stream", RECOVERABLE_STREAMS)
def test_a_truncated_body_is_retried_and_every_record_arrives(sb, truth, stream):
    sb.set_faults([{"kind": "truncate", "path": FAULT_PATH[stream], "after": 1, "count": 2}])
    output = run_read(config_for(sb, stream), [stream])
    assert_exact(output, stream, truth)


@pytest.mark.timeout(120)
@pytest.mark.parametrize("stream", RECOVERABLE_STREAMS)
def test_a_malformed_json_body_is_retried_and_never_ends_the_stream_early(sb, truth, stream):
    sb.set_faults([{"kind": "malformed", "path": FAULT_PATH[stream], "after": 1, "count": 2}])
    output = run_read(config_for(sb, stream), [stream])
    assert_exact(output, stream, truth)


@pytest.mark.timeout(120)
def test_malformed_json_that_never_ends_fails_with_a_clear_message(sb):
    sb.set_faults([{"kind": "malformed", "path": "/v1/company/time-offs", "after": 1}])
    output = run_read(cfg(sb), ["absences"], expecting_exception=True)
    messages = error_messages(output)
    assert messages, "a body that is not JSON must not look like the end of the data"
    assert any("JSON" in m or "json" in m for m in messages), messages
    assert requests_to(sb, "/v1/company/time-offs") <= 1 + 6


# ------------------------------------------------------------------ tokens


@pytest.mark.timeout(120)
@pytest.mark.parametrize("stream,auth", [("employees", "/v1/auth"), ("attendances", "/v2/auth/token")])
def test_a_token_expiring_mid_sync_is_minted_again_once(sb, truth, stream, auth):
    sb.set_faults([{"kind": "token_expiry", "path": FAULT_PATH[stream], "after": 1, "count": 1}])
    output = run_read(config_for(sb, stream), [stream])
    assert_exact(output, stream, truth)
    assert sb.stats()["requests"][f"POST {auth}"] == 2
    assert status_count(sb, 401) == 1


# ------------------------------------------------------------------ pagination anomalies


@pytest.mark.timeout(120)
@pytest.mark.parametrize("stream", ["employees", "absences"])
def test_a_record_repeated_across_v1_pages_leaves_no_gap(sb, truth, stream):
    """Personio has served a record on two consecutive pages while the record after it went
    missing (the window shifted by one); the sandbox does exactly that on one page."""
    sb.set_faults([{"kind": "duplicates", "path": FAULT_PATH[stream], "after": 1, "count": 1}])
    output = run_read(cfg(sb), [stream])
    assert_exact(output, stream, truth)


@pytest.mark.timeout(120)
@pytest.mark.parametrize("stream", ["employees", "absences", "absence_types"])
def test_total_elements_drifting_between_pages_neither_stops_early_nor_loops(sb, truth, stream):
    sb.set_faults([{"kind": "drift", "path": FAULT_PATH[stream]}])
    output = run_read(cfg(sb), [stream])
    assert_exact(output, stream, truth)
    assert Counter(read_ids(output, stream)).most_common(1)[0][1] == 1
    # a drifting total never confirms the end: at most one page more than the fewest
    assert requests_to(sb, FAULT_PATH[stream]) <= fewest_pages(stream, len(truth[stream])) + 1


def _month_of_compensations(sb):
    """Config and ground truth for one month of compensations (about 3 pages of 100 at 230 employees): a v2
    list that follows Personio's cursors (the windowed lists ask for no cursor, see test_churn_incremental)."""
    today = dt.date.today()
    first = today.replace(day=1).isoformat()
    truth = sorted(c["id"] for c in sb.truth("compensations", start_date=first, end_date=today.isoformat()))
    return sb.config(retry_backoff_seconds=0.05, start_date=first), truth


@pytest.mark.timeout(120)
def test_a_v2_next_link_repeating_the_current_cursor_once_is_re_requested_without_gap(sb):
    config, truth = _month_of_compensations(sb)
    pages = -(-len(truth) // 100)
    assert pages >= 3
    sb.set_faults([{"kind": "repeat_cursor", "path": "/v2/compensations", "after": 2, "count": 1}])
    output = run_read(config, ["compensations"])
    assert not output.errors, [e.trace.error.message for e in output.errors]
    got = [r["id"] for r in records_by_stream(output).get("compensations", [])]
    assert sorted(set(got)) == truth
    assert requests_to(sb, "/v2/compensations") <= pages + 1


@pytest.mark.timeout(120)
def test_a_v2_cursor_that_always_repeats_fails_clearly_instead_of_looping(sb):
    config, _ = _month_of_compensations(sb)
    sb.set_faults([{"kind": "repeat_cursor", "path": "/v2/compensations", "after": 1}])
    output = run_read(config, ["compensations"], expecting_exception=True)
    messages = error_messages(output)
    assert any("cursor" in m and "compensations" in m for m in messages), messages
    assert requests_to(sb, "/v2/compensations") <= 10


# ------------------------------------------------------------------ unexpected shapes


@pytest.mark.timeout(120)
@pytest.mark.parametrize("kind", ["unknown_fields", "null_objects", "empty_string_objects"])
@pytest.mark.parametrize("stream", ["employees", "absences", "attendances", "projects"])
def test_unexpected_record_shapes_lose_no_record(sb, truth, kind, stream):
    sb.set_faults([{"kind": kind, "path": FAULT_PATH[stream]}])
    output = run_read(config_for(sb, stream), [stream])
    assert_exact(output, stream, truth)


# ------------------------------------------------------------------ the same faults on the session sandbox (40 employees)


@pytest.fixture
def faults(sandbox):
    sandbox.reset_stats()
    yield sandbox
    sandbox.clear_faults()


def ids(records):
    return sorted(r["id"] for r in records)


def test_429s_without_retry_after_are_retried_and_nothing_is_lost(faults, config):
    faults.set_faults([{"kind": "429", "path": "/v1/company/employees", "count": 2}])
    output = run_read(config, ["employees"])
    assert not output.errors
    assert ids(records_by_stream(output)["employees"]) == sorted(e["attributes"]["id"]["value"] for e in faults.dataset("/v1/company/employees"))
    assert faults.stats()["statuses"].get("429", 0) + faults.stats()["statuses"].get(429, 0) >= 2


def test_5xx_mid_pagination_is_retried_and_nothing_is_lost(faults, config):
    faults.set_faults([{"kind": "status", "status": 502, "path": "/v2/attendance-periods", "after": 3, "count": 2}])
    output = run_read(config, ["attendances"])
    assert not output.errors
    assert ids(records_by_stream(output)["attendances"]) == ids(faults.dataset("/v2/attendance-periods"))


def test_expired_token_is_replaced_once_and_the_read_completes(faults, config):
    faults.set_faults([{"kind": "token_expiry", "path": "/v1/company/document-categories", "count": 1}])
    output = run_read(config, ["document_categories", "absence_types"])
    assert not output.errors
    assert len(records_by_stream(output)["document_categories"]) == len(faults.dataset("/v1/company/document-categories"))
    assert faults.stats()["requests"]["POST /v1/auth"] == 2


def test_a_bogus_next_link_on_a_windowed_v2_list_loses_nothing_and_costs_a_bounded_number_of_requests(faults, config):
    """attendances are read in updated_at windows without cursors (time_windows.py): a next link that repeats the
    cursor (here: the first page's) only makes that window look oversized, so it is split and read again."""
    faults.set_faults([{"kind": "repeat_cursor", "path": "/v2/attendance-periods", "after": 2, "count": 1}])
    output = run_read(config, ["attendances"])
    assert not output.errors
    assert ids(records_by_stream(output)["attendances"]) == ids(faults.dataset("/v2/attendance-periods"))
    pages = -(-len(faults.dataset("/v2/attendance-periods")) // 100)
    # the windowed lists' bound (test_request_economy): up to 1 + 4 requests per page of the list
    assert faults.stats()["requests"]["GET /v2/attendance-periods"] <= 1 + 4 * pages


@pytest.mark.parametrize("kind", ["null_objects", "empty_string_objects", "unknown_fields"])
def test_blank_or_unexpected_nested_objects_still_match_the_schema(faults, config, kind):
    faults.set_faults([{"kind": kind, "path": "/v1/company/employees"}, {"kind": kind, "path": "/v1/company/time-offs"}])
    output = run_read(config, ["employees", "absences"])
    assert not output.errors, [e.trace.error.message for e in output.errors]
    catalog = discover(SourcePersonio(config=config), config).catalog.catalog
    schemas = {s.name: s.json_schema for s in catalog.streams}
    records = records_by_stream(output)
    assert len(records["employees"]) == len(faults.dataset("/v1/company/employees"))
    for stream in ("employees", "absences"):
        validator = jsonschema.Draft7Validator(schemas[stream])
        for record in records[stream]:
            errors = list(validator.iter_errors(record))
            assert not errors, f"{stream}: {errors[0].message}"
