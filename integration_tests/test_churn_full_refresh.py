"""Full refresh of v1 offset-paged streams while Personio's data changes under the read.

The sandbox fires a change (deletes, inserts, updates) right after the N-th page request of the
stream's list -- after the first page, in the middle, before the last page -- and the read goes on
against the changed list, as Personio's would. Ground truth is the sandbox's data model
(``/_sandbox/truth``, no paging involved) before and after the read:

* every record that existed throughout (truth before ∩ truth after, by primary key) is emitted;
* every record is emitted exactly once;
* nothing is emitted that never existed (before, after, or created in between per ``/_sandbox/changes``).

absence_types is not here: the sandbox has no change for time-off types (its paging is the
employees' record offset, covered under changes by unit_tests/test_pagination.py).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from typing import Any, Callable, Dict, Set, Tuple

import pytest

from airbyte_cdk.test.entrypoint_wrapper import discover
from personio_sandbox.testing import Sandbox

from sandbox_helpers import records_by_stream, run_read
from source_personio.auth import clear_token_cache
from source_personio.source import SourcePersonio

# 1,150 active employees: a custom report spans six pages of the 200 employees the connector asks for
EMPLOYEES = 1150


def _v1_id(record: Dict[str, Any]) -> Any:
    value = record["attributes"]["id"]
    return value["value"] if isinstance(value, dict) else value


def _report_pk(row: Dict[str, Any]) -> Tuple[Any, Any]:
    return row["report_id"], row["employee_id"]


# stream -> (truth resource, truth PK, emitted PK, the list path the trigger counts, page size, mutation resource)
STREAMS: Dict[str, Tuple[str, Callable, Callable, str, int, str]] = {
    "employees": ("employees", _v1_id, lambda r: r["id"], "/v1/company/employees", 100, "employees"),
    "absences": ("absences", _v1_id, lambda r: r["id"], "/v1/company/time-offs", 200, "absences"),
    # report rows change with the employees they show; rows are keyed by report and employee
    "custom_reports": ("custom_report_rows", _report_pk, _report_pk, "/v1/company/custom-reports/reports/", 200, "employees"),
}

CHANGES = {
    "20 deletes": {"delete": 20},
    "20 inserts": {"create": 20},
    "20 updates": {"update": 20},
    "10 deletes and 10 inserts": {"create": 10, "delete": 10},
}


@pytest.fixture(scope="module")
def sb():
    with Sandbox(employees=EMPLOYEES, seed=11, rate_limits="off") as sandbox:
        yield sandbox


def config(sb) -> Dict[str, Any]:
    clear_token_cache()
    # start_date far back: every time-off is in the absences full refresh, whatever its updated_at
    return sb.config(start_date="2000-01-01", pace_requests=False, custom_report_streams=False, retry_backoff_seconds=0.2)


def pages_without_changes(stream: str, n: int) -> int:
    """How many list requests a read of n records makes when nothing changes (pages overlap by one)."""
    size = STREAMS[stream][4]
    return 1 if n <= size else 1 + math.ceil((n - size) / (size - 1))


def created_ids(sb, since: int, resource: str) -> Set[Any]:
    return {c["id"] for c in sb.changes(since) if c.get("op") == "create" and c.get("resource") == resource}


@pytest.mark.timeout(300)
@pytest.mark.parametrize("change", list(CHANGES))
@pytest.mark.parametrize("moment", ["after the first page", "in the middle", "before the last page"])
@pytest.mark.parametrize("stream", list(STREAMS))
def test_a_full_refresh_under_changes_emits_every_record_that_existed_throughout_once(sb, stream, moment, change):
    resource, truth_pk, emitted_pk, path, size, mutates = STREAMS[stream]
    sb.clear_triggers()
    seq = max((c.get("seq", 0) for c in sb.changes()), default=0)
    before = [truth_pk(r) for r in sb.truth(resource)]
    if stream == "custom_reports":
        reports = len(sb.truth("custom_reports"))
        per_report = len(before) // max(reports, 1)
        pages = pages_without_changes(stream, per_report) * reports
    else:
        pages = pages_without_changes(stream, len(before))
    assert pages >= 3, f"{stream}: the list must span several pages ({len(before)} records)"
    after_requests = {"after the first page": 1, "in the middle": pages // 2, "before the last page": pages - 1}[moment]
    sb.trigger(after_requests=after_requests, path=path, exact=stream == "employees", resource=mutates, seed=after_requests, **CHANGES[change])

    output = run_read(config(sb), [stream])

    assert not output.errors, [e.trace.error.message for e in output.errors]
    (trigger,) = sb.triggers()
    assert trigger["fired"], "the change must happen during the read"
    after = [truth_pk(r) for r in sb.truth(resource)]
    emitted = [emitted_pk(r) for r in records_by_stream(output).get(stream, [])]
    throughout = set(before) & set(after)
    missing = throughout - set(emitted)
    assert not missing, f"{len(missing)} records that existed throughout were not emitted: {sorted(missing)[:10]}"
    if stream == "custom_reports":
        counts = Counter((r["report_id"], r["employee_id"], r["effective_date"]) for r in records_by_stream(output)[stream])
    else:
        counts = Counter(emitted)
    repeated = {k: n for k, n in counts.items() if n > 1}
    assert not repeated, f"emitted more than once: {dict(list(repeated.items())[:10])}"
    existed = set(before) | set(after)
    new_ids = created_ids(sb, seq, mutates)
    invented = {k for k in set(emitted) - existed if (k[1] if stream == "custom_reports" else k) not in new_ids}
    assert not invented, f"never existed: {sorted(invented)[:10]}"


@pytest.mark.timeout(300)
def test_twenty_employees_deleted_after_the_first_page_all_survivors_emitted_once(sb):
    """The measured case: 300-employee page 1, 20 deleted right after it; before, 15 were never emitted."""
    before = {_v1_id(r) for r in sb.truth("employees")}
    sb.clear_triggers()
    sb.trigger(after_requests=1, path="/v1/company/employees", exact=True, resource="employees", delete=20, seed=3)
    output = run_read(config(sb), ["employees"])
    after = {_v1_id(r) for r in sb.truth("employees")}
    emitted = [r["id"] for r in records_by_stream(output)["employees"]]
    assert len(before - after) == 20
    assert before & after <= set(emitted)
    assert len(emitted) == len(set(emitted))


@pytest.mark.timeout(300)
@pytest.mark.parametrize("change", ["20 deletes", "10 deletes and 10 inserts"])
@pytest.mark.parametrize("moment", ["after the first page", "before the last page"])
def test_a_custom_report_stream_under_changes_emits_every_row_that_existed_throughout_once(sb, moment, change):
    """custom_report_<name>: one report's own stream, paged by ``page`` like custom_reports."""
    report = sb.truth("custom_reports")[0]["attributes"]
    cfg = dict(config(sb), custom_report_streams=True)
    names = {s.name for s in discover(SourcePersonio(config=cfg), cfg).catalog.catalog.streams}
    # the documented name: custom_report_<name>, lower case, every run of other characters one underscore
    stream = "custom_report_" + re.sub("[^a-z0-9]+", "_", report["name"].lower()).strip("_")
    assert stream in names
    rows = lambda: {r["employee_id"] for r in sb.truth("custom_report_rows") if r["report_id"] == report["id"]}  # noqa: E731
    before = rows()
    pages = pages_without_changes("custom_reports", len(before))
    assert pages >= 2
    sb.clear_triggers()
    seq = max((c.get("seq", 0) for c in sb.changes()), default=0)
    path = f"/v1/company/custom-reports/reports/{report['id']}"
    sb.trigger(after_requests=1 if moment == "after the first page" else pages - 1, path=path, exact=True, resource="employees", seed=5, **CHANGES[change])
    output = run_read(cfg, [stream])
    assert not output.errors, [e.trace.error.message for e in output.errors]
    assert sb.triggers()[0]["fired"]
    after = rows()
    emitted = records_by_stream(output).get(stream, [])
    counts = Counter((r["employee_id"], r["effective_date"]) for r in emitted)
    assert not (before & after) - {r["employee_id"] for r in emitted}
    assert max(counts.values()) == 1
    assert {r["employee_id"] for r in emitted} <= before | after | created_ids(sb, seq, "employees")


@pytest.mark.timeout(300)
@pytest.mark.parametrize(
    "stream,mix",
    [("employees", "employees=create:2,delete:2,update:2"), ("absences", "absences=create:3,delete:3,update:3")],
)
def test_a_full_refresh_under_changes_after_every_other_request_emits_every_survivor_once(sb, stream, mix):
    """Churn mode: the sandbox changes the list after every 2nd API request for the whole read."""
    resource, truth_pk, emitted_pk, _, _, mutates = STREAMS[stream]
    sb.clear_triggers()
    seq = max((c.get("seq", 0) for c in sb.changes()), default=0)
    before = {truth_pk(r) for r in sb.truth(resource)}
    sb.set_churn(mix, every_requests=2)
    try:
        output = run_read(config(sb), [stream])
    finally:
        sb.set_churn(None)
    assert not output.errors, [e.trace.error.message for e in output.errors]
    after = {truth_pk(r) for r in sb.truth(resource)}
    assert len([c for c in sb.changes(seq) if c.get("op") == "delete"]) >= 6, "the list must change during the read"
    emitted = [emitted_pk(r) for r in records_by_stream(output).get(stream, [])]
    assert not (before & after) - set(emitted)
    assert len(emitted) == len(set(emitted))
    assert set(emitted) <= before | after | created_ids(sb, seq, mutates)
