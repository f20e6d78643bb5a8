"""The state of every incremental stream names its cursor in the records' own notation.

A user comparing a saved state with the synced table (or a destination deduplicating on the cursor)
sees the same string: employees' ``last_modified_at`` ``...+01:00``, absences' ``updated_at``
``...+0100``, the v2 streams' ``...Z``, dates as ``YYYY-MM-DD``. Ground truth is the records this
read emitted; nothing here is derived from the manifest.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any, List, Mapping

import pytest
from airbyte_cdk.models import SyncMode
from airbyte_cdk.test.entrypoint_wrapper import discover

from sandbox_helpers import final_states, records_by_stream, run_read
from source_personio.auth import clear_token_cache
from source_personio.source import SourcePersonio


def _notation(value: str) -> str:
    """The string with every digit as 9: '2026-10-19T14:01:55+01:00' -> '9999-99-99T99:99:99+99:99'."""
    return re.sub(r"[0-9]", "9", value)


def _instant(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _cursor_in_state(stream_state: Mapping[str, Any], cursor_field: str) -> str:
    # substreams with one global cursor keep it under "state" (next to their parent's state)
    if "use_global_cursor" in stream_state or ("state" in stream_state and cursor_field not in stream_state):
        stream_state = stream_state["state"]
    return stream_state[cursor_field]


@pytest.fixture(scope="module")
def incremental_read(sandbox):
    config = sandbox.config(retry_backoff_seconds=0.2)
    clear_token_cache()
    catalog = discover(SourcePersonio(config=config), config).catalog.catalog
    cursors = {s.name: s.default_cursor_field[0] for s in catalog.streams if SyncMode.incremental in s.supported_sync_modes}
    started = datetime.now(timezone.utc)
    clear_token_cache()
    output = run_read(config, sorted(cursors), SyncMode.incremental)
    assert not output.errors, [e.trace.error.message for e in output.errors]
    return cursors, records_by_stream(output), final_states(output), started


def test_every_incremental_stream_is_covered(incremental_read):
    cursors, records, states, _ = incremental_read
    # the streams this project documents as incremental (docs/personio.md), each read with records
    assert {"employees", "absences", "attendances", "persons", "employments", "absence_periods",
            "absence_period_breakdowns", "compensations", "recruiting_candidates", "recruiting_applications",
            "recruiting_application_stage_transitions"} <= set(cursors)
    assert {s.stream.stream_descriptor.name for s in states} == set(cursors)
    assert all(records.get(name) for name in cursors), [n for n in cursors if not records.get(n)]


def test_state_cursor_is_written_like_the_records_cursor(incremental_read):
    cursors, records, states, started = incremental_read
    wrong: List[str] = []
    for message in states:
        name = message.stream.stream_descriptor.name
        field = cursors[name]
        values = [r[field] for r in records[name] if r.get(field)]
        notations = {_notation(v) for v in values}
        assert len(notations) == 1, f"{name}: the records themselves mix notations {notations}"
        newest = max(values, key=_instant)
        state_value = _cursor_in_state(message.stream.stream_state.__dict__, field)
        if _notation(state_value) != _notation(newest):
            wrong.append(f"{name}: state {state_value!r}, newest record {newest!r}")
        elif _instant(newest) <= started and state_value != newest:
            # nothing in the records is later than the sync's start: the state is the newest record
            wrong.append(f"{name}: state {state_value!r} is not the newest record's {newest!r}")
        elif _instant(state_value) > _instant(newest):
            wrong.append(f"{name}: state {state_value!r} is past every record ({newest!r})")
    assert not wrong, "\n".join(wrong)
