"""After the sandbox changes data, an incremental sync from the previous state returns every created and
updated record with its new values and misses none: the v1 streams with v2 attendances (record values stated
field by field from the served records, expected_rows.v1_row_from_wire) and the v2 HR and recruiting streams
(exactly the changed records; ground truth the served lists)."""

from __future__ import annotations

import datetime as dt
import os
import tempfile

import pytest
from airbyte_cdk.models import SyncMode
from personio_sandbox.testing import Sandbox

from expected_rows import v1_row_from_wire
from sandbox_helpers import EMPLOYEES, INCREMENTAL_STREAMS, by_key, final_states, records_by_stream, run_read, without_nulls
from source_personio.auth import clear_token_cache


@pytest.fixture(scope="module")
def sandbox():
    """A sandbox of this module's own: mutating it moves the sandbox clock, which must not leak into
    tests that compare the session sandbox with fixed expected records."""
    log_path = os.path.join(tempfile.gettempdir(), f"source-personio-it-incremental-{os.getpid()}.log")
    with Sandbox(employees=EMPLOYEES, seed=1, rate_limits="off", log_path=log_path) as sb:
        yield sb


def _ids(records, key="id"):
    return {r[key] for r in records}


def test_second_incremental_sync_returns_every_changed_v1_record_and_attendance(sandbox, config):
    first = run_read(config, INCREMENTAL_STREAMS, SyncMode.incremental)
    assert not first.errors, [e.trace.error.message for e in first.errors]
    first_records = records_by_stream(first)
    state = final_states(first)
    assert {s.stream.stream_descriptor.name for s in state} == set(INCREMENTAL_STREAMS)

    changes = sandbox.mutate(create=3, update=5, delete=1, resources=["employees", "absences", "attendance_periods"])

    second = run_read(config, INCREMENTAL_STREAMS, SyncMode.incremental, state=state)
    assert not second.errors, [e.trace.error.message for e in second.errors]
    second_records = records_by_stream(second)

    truth = {
        "employees": {r["id"]: r for r in (v1_row_from_wire("employees", x) for x in sandbox.dataset("/v1/company/employees"))},
        "absences": {r["id"]: r for r in (v1_row_from_wire("absences", x) for x in sandbox.dataset("/v1/company/time-offs"))},
        "attendances": {r["id"]: r for r in sandbox.dataset("/v2/attendance-periods")},
    }
    resource_of = {"employees": "employees", "absences": "absences", "attendances": "attendance_periods"}
    for stream in INCREMENTAL_STREAMS:
        resource = resource_of[stream]
        changed = (set(changes["created"][resource]) | set(changes["updated"][resource])) & set(truth[stream])
        assert changed, f"the sandbox changed no {stream}"
        got = {r["id"]: r for r in second_records.get(stream, [])}
        missing = changed - set(got)
        assert not missing, f"{stream}: changed records missing from the incremental sync: {sorted(missing)[:5]}"
        for record_id in changed:
            assert without_nulls(got[record_id]) == without_nulls(truth[stream][record_id])
        # and it is incremental: far fewer records than the first, full, sync
        assert len(got) < len(first_records[stream]) / 2 or len(first_records[stream]) < 20, stream

    # the new state moved forward for every stream
    new_state = {s.stream.stream_descriptor.name: s.stream.stream_state for s in final_states(second)}
    old_state = {s.stream.stream_descriptor.name: s.stream.stream_state for s in state}
    for stream in INCREMENTAL_STREAMS:
        cursor = "last_modified_at" if stream == "employees" else "updated_at"
        assert getattr(new_state[stream], cursor) > getattr(old_state[stream], cursor), stream


@pytest.fixture(scope="module")
def sb():
    """A small sandbox of its own for the v2 streams (persons, absence periods, recruiting, employments)."""
    log_path = os.path.join(tempfile.gettempdir(), f"source-personio-it-incremental-v2-{os.getpid()}.log")
    with Sandbox(employees=15, seed=5, rate_limits="off", log_path=log_path) as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def cfg(sb):
    return sb.config(retry_backoff_seconds=0.2, start_date="2024-01-01")


# ------------------------------------------------------------------ v2 HR and recruiting streams


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


def test_second_incremental_sync_of_v2_streams_returns_exactly_the_changed_records(sb, cfg):
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
