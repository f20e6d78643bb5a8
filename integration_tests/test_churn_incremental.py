"""Nothing lost while Personio changes under a sync (incremental streams).

For every incremental stream, the sandbox fires changes -- updates, inserts and deletes -- at several
moments of a sync: right after the first page of the stream's list, in the middle, before its last
page, and inside its per-parent requests (employments, breakdowns, stage transitions). The sync is
either the first one (no state) or an incremental one (from the state of a quiet full sync). Then
the next incremental sync runs from the state the platform saved (the last state message of the
stream). What a destination with append + dedup holds afterwards -- the latest record per primary key
over all syncs, in the order they were emitted -- must equal the sandbox's ground truth
(``/_sandbox/truth``: computed from its data model, no paging, no connector code) for every record
that exists and is in the stream's scope: lost = 0. Duplicates (at-least-once) and deleted records
still in the destination (Personio has no feed of deletions) are counted and reported, not failed.

Mechanisms under test: states bounded by the start of each read (ReadStartBoundedCursor), global
substream cursors re-reading the previous sync's duration, employments of every person,
compensations re-reading past months, parents deleted mid-sync skipped with a warning.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import tempfile
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Tuple

import pytest

from airbyte_cdk.models import SyncMode
from personio_sandbox.testing import Sandbox

from expected_rows import v1_row_from_wire
from sandbox_helpers import final_states, run_read, without_nulls
from source_personio.auth import clear_token_cache

EMPLOYEES = 120  # employees and persons span several pages (100 / 50 per page)
START = "2026-10-25"  # absences, attendances, absence periods updated since then (keeps attendance small)
TODAY = dt.datetime.now(dt.timezone.utc).date()
# the sandbox back-dates compensation changes up to 12 months: the churn config re-reads them all
COMP_START = (TODAY.replace(day=1) - dt.timedelta(days=370)).replace(day=1)
COMP_LOOKBACK_MONTHS = 13

REPORT: List[str] = []


def _utc(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(dt.timezone.utc)


def _since_start(record: Dict[str, Any], key: str = "updated_at") -> bool:
    return _utc(record[key]) >= dt.datetime.fromisoformat(START + "T00:00:00+00:00")


@dataclass
class Spec:
    truth: str  # /_sandbox/truth resource
    pk: Tuple[str, ...]
    list_path: str  # the list the stream (or its parent) pages through
    page: int  # its page size
    mutations: List[Dict[str, Any]]  # mutation per trigger (resource, create, update, delete)
    v1: bool = False
    in_scope: Callable[[Dict[str, Any], "Sandbox"], bool] = lambda record, sb: True
    child_path: Optional[str] = None  # the per-parent requests (path prefix)
    truth_query: Dict[str, str] = field(default_factory=dict)


def _mix(resource: str, update: int = 3, create: int = 1, delete: int = 1, **extra: Any) -> Dict[str, Any]:
    return {"resource": resource, "update": update, "create": create, "delete": delete, **extra}


def _spread(resource: str, truth: str, in_scope: Callable[[Dict[str, Any]], bool] = lambda r: True, **counts: int) -> Dict[str, Any]:
    """A mix whose delete takes a record of the v2 list the stream reads (``truth``, in list order): the
    first trigger's from its head (behind the read position once the first page is read: with positional
    cursors that would shift the next page), the next one's from the middle, then from the end."""
    return {**_mix(resource, **counts), "spread": (truth, in_scope)}


def _period_in_scope(record, sb) -> bool:
    return record["absence_period_id"] in sb._periods_in_scope  # set per check (see truth_in_scope)


SPECS: Dict[str, Spec] = {
    "employees": Spec("employees", ("id",), "/v1/company/employees", 100, [_mix("employees")], v1=True),
    "absences": Spec(
        "absences", ("id",), "/v1/company/time-offs", 200, [_mix("absences")], v1=True, in_scope=lambda r, sb: _since_start(v1_row_from_wire("absences", r))
    ),
    "attendances": Spec(
        "attendance_periods",
        ("id",),
        "/v2/attendance-periods",
        100,
        [_spread("attendance_periods", "attendance_periods", _since_start)],
        in_scope=lambda r, sb: _since_start(r),
    ),
    "persons": Spec("persons", ("id",), "/v2/persons", 50, [_spread("persons", "persons")]),
    "employments": Spec(
        "employments",
        ("id",),
        "/v2/persons",
        50,
        [_mix("employments"), _spread("persons", "persons", update=1, create=1, delete=1)],
        child_path="/v2/persons/",
    ),
    "absence_periods": Spec(
        "absence_periods",
        ("id",),
        "/v2/absence-periods",
        100,
        [_spread("absence_periods", "absence_periods", _since_start), _mix("absences", update=2, delete=0)],
        in_scope=lambda r, sb: _since_start(r),
    ),
    "absence_period_breakdowns": Spec(
        "breakdowns",
        ("absence_period_id", "date"),
        "/v2/absence-periods",
        100,
        [_spread("absence_periods", "absence_periods", _since_start, update=2), _mix("absences", update=1, delete=0)],
        in_scope=_period_in_scope,
        child_path="/v2/absence-periods/",
    ),
    "compensations": Spec(
        "compensations",
        ("id",),
        "/v2/compensations",
        100,
        [_mix("compensations")],
        in_scope=lambda r, sb: COMP_START.isoformat() <= r["effective_date"] <= TODAY.isoformat(),
        truth_query={"start_date": COMP_START.isoformat(), "end_date": TODAY.isoformat()},
    ),
    "recruiting_candidates": Spec("candidates", ("id",), "/v2/recruiting/candidates", 200, [_spread("candidates", "candidates")]),
    "recruiting_applications": Spec("applications", ("id",), "/v2/recruiting/applications", 200, [_spread("applications", "applications")]),
    "recruiting_application_stage_transitions": Spec(
        "stage_transitions",
        ("application_id", "entered_at"),
        "/v2/recruiting/applications",
        200,
        [_spread("applications", "applications")],
        child_path="/v2/recruiting/applications/",
    ),
}


@pytest.fixture(scope="module", params=["positional", "keyset"])
def sb(request):
    """The sandbox, once with v2 cursors that are positions in the current list and once with keyset cursors
    (Personio documents neither, so the connector must lose nothing under both)."""
    log_path = os.path.join(tempfile.gettempdir(), f"source-personio-it-churn-{os.getpid()}-{request.param}.log")
    with Sandbox(employees=EMPLOYEES, seed=5, rate_limits="off", log_path=log_path, extra_args=["--v2-cursors", request.param]) as sandbox:
        sandbox.v2_cursors = request.param
        yield sandbox
    mine = [line for line in REPORT if f" {request.param} " in line]
    print("\n".join(["", f"churn ({request.param} v2 cursors): lost / stale / duplicated / deleted-still-present per scenario"] + mine))


def config_for(sb, stream: str) -> Dict[str, Any]:
    clear_token_cache()
    start = COMP_START.isoformat() if stream == "compensations" else START
    return sb.config(
        start_date=start,
        retry_backoff_seconds=0.2,
        pace_requests=False,
        custom_report_streams=False,
        compensations_lookback_months=COMP_LOOKBACK_MONTHS,
    )


def truth_in_scope(sb, stream: str) -> Dict[Tuple, Dict[str, Any]]:
    spec = SPECS[stream]
    if stream == "absence_period_breakdowns":
        sb._periods_in_scope = {p["id"] for p in sb.truth("absence_periods") if _since_start(p)}
    records = sb.truth(spec.truth, **spec.truth_query)
    out = {}
    for record in records:
        if not spec.in_scope(record, sb):
            continue
        view = without_nulls(v1_row_from_wire(stream, record) if spec.v1 else record)
        out[tuple(view[k] for k in spec.pk)] = view
    return out


def pages(n: int, size: int) -> int:
    return max(1, math.ceil(n / size))


def list_requests(sb, stream: str, incremental: bool) -> int:
    """How many requests the stream's list takes (the trigger points), from the truth's size."""
    spec = SPECS[stream]
    if incremental:
        return 1
    if stream in ("employments",):
        return pages(len(sb.truth("persons")), spec.page)
    if stream == "absence_period_breakdowns":
        return pages(len([p for p in sb.truth("absence_periods") if _since_start(p)]), spec.page)
    if stream == "recruiting_application_stage_transitions":
        return pages(len(sb.truth("applications")), spec.page)
    if stream == "compensations":
        return 13  # one window per month
    return pages(len(truth_in_scope(sb, stream)), spec.page)


def child_requests(sb, stream: str) -> int:
    if stream == "employments":
        return len(sb.truth("persons"))
    if stream == "absence_period_breakdowns":
        return len([p for p in sb.truth("absence_periods") if _since_start(p)])
    return len(sb.truth("applications"))


def arm_triggers(sb, stream: str, incremental: bool, seed: int) -> List[str]:
    """Changes right after the first page, in the middle and before the last page of the list, and
    inside the per-parent requests; each trigger applies every mutation of the stream's spec."""
    spec = SPECS[stream]
    sb.clear_triggers()
    n = list_requests(sb, stream, incremental)
    points = [(spec.list_path, k) for k in sorted({1, max(1, n // 2), max(1, n - 1)})]
    if spec.child_path:
        c = child_requests(sb, stream) if not incremental or stream == "employments" else 1
        points += [(spec.child_path, k) for k in sorted({1, max(1, c // 2), max(1, c - 2)})]
    ids = []
    lists: Dict[str, List[str]] = {}
    for i, (path, after) in enumerate(points):
        for j, mix in enumerate(spec.mutations):
            mutations = [mix]
            if "spread" in mix:
                truth, in_scope = mix["spread"]
                if truth not in lists:
                    lists[truth] = [r["id"] for r in sb.truth(truth) if in_scope(r)]
                listed = lists[truth]
                where = (0, len(listed) // 2, max(len(listed) - 10, 0))[i % 3]  # head, middle, end
                chunk = listed[where + 10 * (i // 3) : where + 10 * (i // 3) + 10] or listed[-10:]
                base = {k: v for k, v in mix.items() if k != "spread"}
                mutations = [{**base, "delete": 0}, {"resource": base["resource"], "delete": base["delete"], "ids": chunk}]
            for k, mutation in enumerate(mutations):
                ids.append(
                    sb.trigger(after_requests=after, path=path, exact=path == spec.list_path, seed=seed * 100 + i * 10 + j * 3 + k, **mutation)
                )
    return ids


def emitted(output, stream: str) -> List[Dict[str, Any]]:
    return [m.record.data for m in output.records if m.record.stream == stream]


def sync(sb, stream: str, state=None):
    output = run_read(config_for(sb, stream), [stream], SyncMode.incremental, state=state)
    assert not output.errors, [e.trace.error.message for e in output.errors]
    return output


@pytest.mark.timeout(900)
@pytest.mark.parametrize("phase", ["first sync", "incremental sync"])
@pytest.mark.parametrize("stream", list(SPECS))
def test_changes_during_a_sync_are_all_in_the_destination_after_the_next_sync(sb, stream, phase):
    spec = SPECS[stream]
    syncs = []
    state = None
    if phase == "incremental sync":
        sb.clear_triggers()
        quiet = sync(sb, stream)
        syncs.append(quiet)
        state = final_states(quiet)
    seq = max([c["seq"] for c in sb.changes()] or [0])
    triggers = arm_triggers(sb, stream, phase == "incremental sync", seed=len(REPORT) + 1)
    churned = sync(sb, stream, state)
    syncs.append(churned)
    fired = [t for t in sb.triggers() if t["fired"]]
    sb.clear_triggers()
    changes = sb.changes(since=seq)
    assert fired and changes, f"{stream}: no change was fired during the sync"
    following = sync(sb, stream, final_states(churned))
    syncs.append(following)

    truth = truth_in_scope(sb, stream)
    destination: Dict[Tuple, Dict[str, Any]] = {}
    total = 0
    for output in syncs:
        for record in emitted(output, stream):
            total += 1
            destination[tuple(record[k] for k in spec.pk)] = without_nulls(record)
    missing = sorted(k for k in truth if k not in destination)
    stale = sorted(k for k in truth if k in destination and destination[k] != truth[k])
    deleted_present = len([k for k in destination if k not in truth])
    duplicates = total - len(destination)
    REPORT.append(
        f"{stream:<42} {phase:<17} {sb.v2_cursors:<10} lost {len(missing) + len(stale):>3} (missing {len(missing)}, stale {len(stale)})"
        f"  duplicated {duplicates:>5}  deleted-still-present {deleted_present:>3}"
        f"  triggers fired {len(fired)}/{len(triggers)}  changes {len(changes)}"
    )
    examples = [(k, destination.get(k, {}).get("updated_at"), truth[k].get("updated_at")) for k in (missing + stale)[:5]]
    assert not missing and not stale, f"{stream} ({phase}): lost {len(missing)} missing + {len(stale)} stale of {len(truth)}, e.g. {examples}"


# stream read: (truth of its list, the list's path, its page size, the resource deleted, in scope)
BEHIND_THE_READ = {
    "persons": ("persons", "/v2/persons", 50, "persons", None),
    "attendances": ("attendance_periods", "/v2/attendance-periods", 100, "attendance_periods", _since_start),
    # every absence period (start_date 2000-01-01): those since START fit in one page
    "absence_periods": ("absence_periods", "/v2/absence-periods", 100, "absence_periods", None),
    # 400 employees: more than one page (200) of applications
    "recruiting_applications": ("applications", "/v2/recruiting/applications", 200, "applications", None),
    "employments": ("persons", "/v2/persons", 50, "persons", None),
}


@pytest.mark.timeout(300)
@pytest.mark.parametrize("cursors", ["positional", "keyset"])
@pytest.mark.parametrize("stream", list(BEHIND_THE_READ))
def test_a_delete_behind_the_read_position_of_a_v2_list_skips_no_unchanged_record(stream, cursors):
    """Right after the first request of the list, the sandbox deletes the first record of it (list
    order) -- behind the read position if the list were read by positional cursors -- in a sandbox of
    its own (nothing changed recently, so no margin re-reads a skipped record), whose v2 cursors are
    positions or keysets (Personio documents neither). After this sync and the next incremental one,
    every record that exists (for employments, every employment of every person) has been emitted."""
    truth, path, page, resource, in_scope = BEHIND_THE_READ[stream]
    employees = 400 if stream == "recruiting_applications" else EMPLOYEES
    with Sandbox(employees=employees, seed=5, rate_limits="off", extra_args=["--v2-cursors", cursors]) as fresh:
        listed = [r for r in fresh.truth(truth) if in_scope is None or in_scope(r)]
        assert len(listed) > page, f"{truth}: {len(listed)} records fit in one page"
        if resource == "absence_periods":  # the sandbox's absence_periods mutations take hour-unit ones
            hourly = {r["attributes"]["id"] for r in fresh.truth("absence_periods_v1")}
            listed = [r for r in listed if r["id"] in hourly]
        first = listed[0]["id"]
        fresh.trigger(after_requests=1, path=path, exact=True, resource=resource, delete=1, delete_ids=[first])
        config = {**config_for(fresh, stream), **({"start_date": "2000-01-01"} if in_scope is None else {})}

        def read(state=None):
            output = run_read(config, [stream], SyncMode.incremental, state=state)
            assert not output.errors, [e.trace.error.message for e in output.errors]
            return output

        churned = read()
        assert all(t["fired"] for t in fresh.triggers())
        fresh.clear_triggers()
        following = read(final_states(churned))
        got = {r["id"] for r in emitted(churned, stream) + emitted(following, stream)}
        expected = fresh.truth("employments") if stream == "employments" else fresh.truth(truth)
        missing = [r["id"] for r in expected if (in_scope is None or in_scope(r)) and r["id"] not in got]
    assert first not in {r["id"] for r in expected}, "the trigger deleted nothing"
    assert not missing, f"{stream} ({cursors} cursors): records skipped by the shifted page: {missing[:10]} ({len(missing)})"


@pytest.mark.timeout(300)
@pytest.mark.parametrize("cursors", ["positional", "keyset"])
def test_a_delete_behind_the_read_position_of_the_newest_first_candidates_skips_no_unchanged_candidate(cursors):
    """recruiting_candidates cannot be read in windows (Personio: updated_at.gt and .lt are mutually exclusive);
    it is read by its documented newest-first order instead. The sandbox deletes only candidates without
    applications, i.e. ones created by a change: three are created before the sync (the newest, so on page 1),
    and one of them is deleted right after page 1."""
    with Sandbox(employees=1000, seed=5, rate_limits="off", extra_args=["--v2-cursors", cursors]) as fresh:
        fresh.mutate(create=3, resource="candidates")
        listed = fresh.truth("candidates")
        assert len(listed) > 200 and not listed[0]["applications"], "a deletable candidate heads a list of several pages"
        first = listed[0]["id"]
        fresh.trigger(after_requests=1, path="/v2/recruiting/candidates", exact=True, resource="candidates", delete=1, delete_ids=[first])
        config = config_for(fresh, "recruiting_candidates")
        churned = run_read(config, ["recruiting_candidates"], SyncMode.incremental)
        assert not churned.errors and all(t["fired"] for t in fresh.triggers())
        fresh.clear_triggers()
        following = run_read(config, ["recruiting_candidates"], SyncMode.incremental, state=final_states(churned))
        assert not following.errors
        got = [r["id"] for r in emitted(churned, "recruiting_candidates")]
        remaining = [c["id"] for c in fresh.truth("candidates")]
    assert first not in remaining, "the trigger deleted nothing"
    assert set(remaining) <= set(got), f"skipped by the shifted page: {sorted(set(remaining) - set(got))}"
    assert len(got) == len(set(got)), "a candidate emitted twice in one sync"
    # the next sync re-reads only what changed within the state's clock-skew margin (the created ones)
    assert {r["id"] for r in emitted(following, "recruiting_candidates")} <= {c["id"] for c in listed[:3]}
