"""CAT's incremental suite (TestIncremental, CAT 3.9.x), in-process, on every incremental stream of the
discovered catalog with the config acceptance-test-config.yml names (sandbox seed 1, 40 employees):

* ``test_state_with_abnormally_large_values``: with integration_tests/abnormal_state.json no record is
  read, and state is still emitted;
* ``test_two_sequential_reads``: a second read from the first read's final state returns no record older
  than the first read's newest one, and CAT also wants records for every stream the first read had.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
import yaml
from airbyte_cdk.models import SyncMode
from airbyte_cdk.test.entrypoint_wrapper import discover
from airbyte_cdk.test.state_builder import StateBuilder

from sandbox_helpers import final_states, records_by_stream, run_read
from source_personio.auth import clear_token_cache
from source_personio.source import SourcePersonio

ROOT = Path(__file__).resolve().parents[1]
ENTRY = yaml.safe_load((ROOT / "acceptance-test-config.yml").read_text())["acceptance_tests"]["incremental"]["tests"][0]


@pytest.fixture(scope="module")
def cat_config(sandbox):
    return {**json.loads((ROOT / ENTRY["config_path"]).read_text()), "base_url": sandbox.url, "retry_backoff_seconds": 0.2}


@pytest.fixture(scope="module")
def incremental_streams(cat_config):
    clear_token_cache()
    catalog = discover(SourcePersonio(config=cat_config), cat_config).catalog.catalog
    return {s.name: s.default_cursor_field[0] for s in catalog.streams if SyncMode.incremental in s.supported_sync_modes}


@pytest.fixture(scope="module")
def two_reads(cat_config, incremental_streams):
    clear_token_cache()
    first = run_read(cat_config, sorted(incremental_streams), SyncMode.incremental)
    assert not first.errors, [e.trace.error.message for e in first.errors]
    clear_token_cache()
    second = run_read(cat_config, sorted(incremental_streams), SyncMode.incremental, state=final_states(first))
    assert not second.errors, [e.trace.error.message for e in second.errors]
    return records_by_stream(first), records_by_stream(second)


def _instant(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def test_a_state_far_in_the_future_reads_no_record_and_still_emits_state(cat_config, incremental_streams):
    states = json.loads((ROOT / ENTRY["future_state"]["future_state_path"]).read_text())
    builder = StateBuilder()
    for state in states:
        builder.with_stream_state(state["stream"]["stream_descriptor"]["name"], state["stream"]["stream_state"])
    assert {s["stream"]["stream_descriptor"]["name"] for s in states} == set(incremental_streams)
    clear_token_cache()
    output = run_read(cat_config, sorted(incremental_streams), SyncMode.incremental, state=builder.build())
    assert not output.errors, [e.trace.error.message for e in output.errors]
    assert output.records == []
    assert {s.state.stream.stream_descriptor.name for s in output.state_messages} == set(incremental_streams)


def test_second_read_returns_nothing_older_than_the_first_reads_newest(two_reads, incremental_streams):
    first, second = two_reads
    assert set(first) == set(incremental_streams), "the first read has records for every incremental stream"
    for stream, records in second.items():
        field = incremental_streams[stream]
        newest_first = max(_instant(r[field]) for r in first[stream])
        oldest_second = min(_instant(r[field]) for r in records)
        # employees and absences re-read a lookback window (one day) before the state, as CAT's threshold_days allows
        assert oldest_second >= newest_first - (_lookback(stream)), stream


def _lookback(stream: str):
    from datetime import timedelta

    if stream == "compensations":
        # compensations_lookback_months (3) calendar months before the state's month are re-read
        return timedelta(days=124)
    return timedelta(days=2) if stream in ("employees", "absences") else timedelta(0)


@pytest.mark.xfail(
    strict=True,
    reason=(
        "CAT 3.9's test_two_sequential_reads wants records from every stream in the second read of an "
        "unchanged account. persons, employments and the recruiting streams ask Personio for updated_at.gt the "
        "state, and the per-period/per-application substreams read only parents changed since the state, so "
        "their second read is (rightly) empty; CAT would need them to re-read the boundary record."
    ),
)
def test_second_read_has_records_for_every_stream_the_first_read_had(two_reads):
    first, second = two_reads
    assert set(second) == set(first)
