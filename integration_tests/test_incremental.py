"""After the sandbox changes data, an incremental sync from the previous state returns every
created and updated record (with its new values) and misses none."""

from __future__ import annotations

import os
import tempfile

import pytest
from airbyte_cdk.models import SyncMode
from personio_sandbox.testing import Sandbox

from sandbox_helpers import EMPLOYEES, INCREMENTAL_STREAMS, final_states, personio_view, records_by_stream, run_read, without_nulls


@pytest.fixture(scope="module")
def sandbox():
    """A sandbox of this module's own: mutating it moves the sandbox clock, which must not leak into
    tests that compare the session sandbox with fixed expected records."""
    log_path = os.path.join(tempfile.gettempdir(), f"source-personio-it-incremental-{os.getpid()}.log")
    with Sandbox(employees=EMPLOYEES, seed=1, rate_limits="off", log_path=log_path) as sb:
        yield sb


def _ids(records, key="id"):
    return {r[key] for r in records}


def test_second_incremental_sync_returns_every_changed_record(sandbox, config):
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
        "employees": {r["id"]: r for r in (personio_view(x) for x in sandbox.dataset("/v1/company/employees"))},
        "absences": {r["id"]: r for r in (personio_view(x) for x in sandbox.dataset("/v1/company/time-offs"))},
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
