"""GlobalSubstreamCursor: substreams with one global cursor keep no cursor per closed partition,
filter records with one cursor, and checkpoint exactly as the CDK's cursor does."""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional

import pytest

from airbyte_cdk.sources.declarative.incremental.concurrent_partition_cursor import ConcurrentPerPartitionCursor
from airbyte_cdk.sources.types import Record, StreamSlice
from airbyte_cdk.test.state_builder import StateBuilder

from source_personio.cursors import (
    GlobalSubstreamCursor,
    as_global_substream_cursor,
    install_global_substream_cursors,
)
from source_personio.source import SourcePersonio

STATE = {
    "use_global_cursor": True,
    "state": {"updated_at": "2024-03-01T00:00:00Z"},
    "lookback_window": 0,
    "parent_state": {"persons": {"updated_at": "2024-02-01T00:00:00Z"}},
}


class FakePersonsRouter:
    """Stands in for the SubstreamPartitionRouter over persons: one partition per person."""

    def __init__(self, person_ids: List[int]):
        self.person_ids = person_ids

    def stream_slices(self):
        for person_id in self.person_ids:
            yield StreamSlice(partition={"person_id": person_id, "parent_slice": {}}, cursor_slice={})

    def get_stream_state(self) -> Mapping[str, Any]:
        return {"persons": {"updated_at": "2024-02-01T00:00:00Z"}}


class FakePartition:
    def __init__(self, stream_slice: StreamSlice):
        self._slice = stream_slice

    def to_slice(self) -> StreamSlice:
        return self._slice


def employments_cursor(config: Dict[str, Any], state: Optional[Mapping[str, Any]] = None, cdk_default: bool = False):
    """The employments stream's cursor as the source builds it (with ours installed unless cdk_default)."""
    saved = StateBuilder().with_stream_state("employments", state).build() if state is not None else None
    source = SourcePersonio(config=config, state=saved)
    stream = next(s for s in source.streams(config) if s.name == "employments")
    cursor = stream.cursor
    if cdk_default:
        assert type(cursor) is GlobalSubstreamCursor
        cursor.__class__ = ConcurrentPerPartitionCursor
    return cursor


def sync(cursor, person_ids: List[int], records_per_person: Dict[int, List[str]], close=lambda pid: True):
    """Drive the cursor as the concurrent read does: slices, records observed, partitions closed."""
    cursor._partition_router = FakePersonsRouter(person_ids)
    kept: List[tuple] = []
    for stream_slice in cursor.stream_slices():
        person_id = stream_slice.partition["person_id"]
        for updated_at in records_per_person.get(person_id, []):
            record = Record(data={"id": f"{person_id}-{updated_at}", "updated_at": updated_at}, stream_name="employments", associated_slice=stream_slice)
            if cursor.should_be_synced(record):
                kept.append((person_id, updated_at))
                cursor.observe(record)
        if close(person_id):
            cursor.close_partition(FakePartition(stream_slice))
    return kept


def test_global_substreams_get_the_global_substream_cursor(config):
    cursor = employments_cursor(config)
    assert type(cursor) is GlobalSubstreamCursor
    assert isinstance(cursor, ConcurrentPerPartitionCursor)  # every CDK isinstance check still holds
    assert cursor._use_global_cursor is True


def test_installing_twice_wraps_the_factory_once(config):
    source = SourcePersonio(config=config)
    create = source._constructor.create_concurrent_cursor_from_perpartition_cursor
    assert install_global_substream_cursors(source) is True
    assert source._constructor.create_concurrent_cursor_from_perpartition_cursor is create


def test_another_cdk_layout_keeps_the_cdk_default():
    class NoFactory:
        pass

    assert install_global_substream_cursors(NoFactory()) is False
    not_a_cursor = object()
    assert as_global_substream_cursor(not_a_cursor) is not_a_cursor


def test_per_partition_cursors_are_left_to_the_cdk(config):
    cursor = employments_cursor(config, cdk_default=True)
    cursor._use_global_cursor = False
    assert type(as_global_substream_cursor(cursor)) is ConcurrentPerPartitionCursor


def test_closed_partitions_release_their_cursor(config):
    cursor = employments_cursor(config)
    records = {pid: ["2024-05-01T00:00:00Z"] for pid in range(200)}
    sync(cursor, list(range(200)), records)
    assert len(cursor._cursor_per_partition) == 0
    assert len(cursor._semaphore_per_partition) == 0
    assert len(cursor._partition_parent_state_map) == 0


def test_the_cdk_cursor_keeps_one_cursor_per_closed_partition(config):
    """What GlobalSubstreamCursor exists for: the CDK default grows with the number of persons."""
    cursor = employments_cursor(config, cdk_default=True)
    sync(cursor, list(range(200)), {})
    assert len(cursor._cursor_per_partition) == 200


def test_open_partitions_keep_their_cursor(config):
    cursor = employments_cursor(config)
    sync(cursor, [1, 2, 3], {}, close=lambda pid: pid != 2)
    assert list(cursor._cursor_per_partition) == [cursor._to_partition_key({"person_id": 2, "parent_slice": {}})]


def test_partitions_and_records_share_one_cursor_built_from_the_global_state(config, monkeypatch):
    cursor = employments_cursor(config, state=STATE)
    built = []
    create = cursor._cursor_factory.create
    monkeypatch.setattr(cursor._cursor_factory, "create", lambda **kw: built.append(kw) or create(**kw))
    records = {pid: ["2024-02-01T00:00:00Z", "2024-03-02T00:00:00Z", "2024-04-01T00:00:00Z"] for pid in range(50)}
    kept = sync(cursor, list(range(50)), records)
    assert {updated_at for _, updated_at in kept} == {"2024-03-02T00:00:00Z", "2024-04-01T00:00:00Z"}
    assert len(built) == 1  # one for the global state: not one per partition, nor one per record


@pytest.mark.parametrize("state", [None, STATE], ids=["first sync", "with state"])
def test_records_kept_and_state_are_the_cdk_ones(config, state):
    records = {
        pid: ["2024-01-15T00:00:00Z", "2024-03-01T00:00:00Z", f"2024-0{4 + pid % 5}-01T00:00:00Z"] for pid in range(30)
    }
    ours, cdk = employments_cursor(config, state=state), employments_cursor(config, state=state, cdk_default=True)
    assert sync(ours, list(range(30)), records) == sync(cdk, list(range(30)), records)
    ours.ensure_at_least_one_state_emitted()
    cdk.ensure_at_least_one_state_emitted()
    assert ours.state == cdk.state
    assert ours.state["state"] == {"updated_at": "2024-08-01T00:00:00Z"}


def test_an_interrupted_sync_does_not_move_the_global_state(config):
    """A partition still open (sync interrupted) keeps the global state where it was: re-read, never skip."""
    records = {pid: ["2024-06-01T00:00:00Z"] for pid in range(10)}
    ours, cdk = employments_cursor(config, state=STATE), employments_cursor(config, state=STATE, cdk_default=True)
    sync(ours, list(range(10)), records, close=lambda pid: pid != 4)
    sync(cdk, list(range(10)), records, close=lambda pid: pid != 4)
    ours.ensure_at_least_one_state_emitted()
    cdk.ensure_at_least_one_state_emitted()
    assert ours.state == cdk.state
    assert ours.state["state"] == STATE["state"]
