"""Deletions: Personio has no deleted-records feed, so an incremental sync can never
report a deletion; a full refresh (or a state reset) returns exactly what exists now.

This is the reconciliation documented in README.md ("Reconciling deletions"): periodically run
the incremental streams as Full refresh | Overwrite (or reset their state), or compare primary
keys of a full refresh with the destination.
"""

from __future__ import annotations

from typing import Any, Dict, Set

import pytest

from airbyte_cdk.models import SyncMode
from personio_sandbox.testing import Sandbox

from expected_rows import v1_id
from sandbox_helpers import final_states, records_by_stream, run_read
from source_personio.auth import clear_token_cache

SINCE = "2020-01-01"
STREAMS = ("employees", "absences", "attendances")
PATHS = {
    "employees": "/v1/company/employees",
    "absences": f"/v1/company/time-offs?updated_from={SINCE}",
    "attendances": f"/v2/attendance-periods?updated_at.gte={SINCE}T00:00:00",
}
RESOURCE = {"employees": "employees", "absences": "absences", "attendances": "attendance_periods"}


@pytest.fixture(scope="module")
def dsb():
    with Sandbox(employees=15, seed=17, rate_limits="off") as sb:
        yield sb


def truth(sb) -> Dict[str, Set[Any]]:
    return {s: {v1_id(r) for r in sb.dataset(PATHS[s])} for s in STREAMS}


def ids(output) -> Dict[str, Set[Any]]:
    return {s: {r["id"] for r in recs} for s, recs in records_by_stream(output).items()}


@pytest.mark.timeout(300)
def test_deleted_records_disappear_only_with_a_full_refresh(dsb):
    clear_token_cache()
    config = dsb.config(start_date=SINCE, retry_backoff_seconds=0.05)
    first = run_read(config, STREAMS, SyncMode.incremental)
    assert not first.errors
    destination = ids(first)  # append + dedup destination after the first sync
    before = truth(dsb)
    assert all(destination[s] == before[s] for s in STREAMS)

    change = dsb.mutate(delete=3, update=2, resources=[RESOURCE[s] for s in STREAMS])
    deleted = {s: set(change["deleted"][RESOURCE[s]]) & before[s] for s in STREAMS}
    assert all(deleted.values()), change["deleted"]
    after = truth(dsb)
    assert all(not (deleted[s] & after[s]) for s in STREAMS)

    # an incremental sync brings the updates but cannot tell about the deletions
    second = run_read(config, STREAMS, SyncMode.incremental, state=final_states(first))
    assert not second.errors
    incremental = ids(second)
    for s in STREAMS:
        assert not (deleted[s] & incremental.get(s, set()))
        destination[s] |= incremental.get(s, set())
        assert deleted[s] <= destination[s], "the limitation the documentation describes"

    # the documented reconciliation: a full refresh returns exactly what exists now
    full = run_read(config, STREAMS, SyncMode.full_refresh)
    assert not full.errors
    refreshed = ids(full)
    for s in STREAMS:
        assert refreshed[s] == after[s], s
        # what a user removes from the destination: every key the full refresh no longer returns
        # (the deleted records, plus absences and attendances of deleted employees)
        stale = destination[s] - refreshed[s]
        assert stale == before[s] - after[s], s
        assert deleted[s] <= stale, s
