"""GlobalSubstreamCursor: substreams with one global cursor keep no cursor per closed partition,
filter records with one cursor, and checkpoint exactly as the CDK's cursor does."""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional

import pytest

from airbyte_cdk.sources.declarative.incremental.concurrent_partition_cursor import ConcurrentPerPartitionCursor
from airbyte_cdk.sources.types import Record, StreamSlice
from airbyte_cdk.test.state_builder import StateBuilder

from source_personio.cdk_adaptations import CdkAdaptationError, PersonioComponentFactory, install_component_factory
from source_personio.cursors import GlobalSubstreamCursor, as_global_substream_cursor
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


def test_installing_twice_leaves_one_personio_factory(config):
    source = SourcePersonio(config=config)
    assert type(source._constructor) is PersonioComponentFactory
    install_component_factory(source)
    assert type(source._constructor) is PersonioComponentFactory


def test_a_global_cursor_of_another_cdk_layout_stops_the_connector(config):
    cursor = employments_cursor(config, cdk_default=True)
    del cursor._semaphore_per_partition
    with pytest.raises(CdkAdaptationError) as error:
        as_global_substream_cursor(cursor)
    assert "'global_substream_cursor'" in error.value.message and "_semaphore_per_partition" in error.value.message


def test_what_is_not_a_cdk_per_partition_cursor_is_left_as_it_is():
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


# ---------------------------------------------------------------- ReadStartBoundedCursor
# A stream read in one slice up to now saves a state no later than the start of its read (minus the
# clock-skew margin): a record changed while the sync reads is read again by the next sync.

import datetime as dt  # noqa: E402

from airbyte_cdk.sources.streams.concurrent.cursor import ConcurrentCursor  # noqa: E402
from airbyte_cdk.utils.datetime_helpers import ab_datetime_parse  # noqa: E402

from source_personio.cursors import CLOCK_SKEW_MARGIN, ReadStartBoundedCursor  # noqa: E402

# stream -> (cursor field, how Personio writes that timestamp)
SINGLE_SLICE_STREAMS = {
    "employees": ("last_modified_at", lambda t: t.astimezone(dt.timezone(dt.timedelta(hours=1))).strftime("%Y-%m-%dT%H:%M:%S+01:00")),
    "absences": ("updated_at", lambda t: t.astimezone(dt.timezone(dt.timedelta(hours=1))).strftime("%Y-%m-%dT%H:%M:%S+01:00")),
    "attendances": ("updated_at", lambda t: t.strftime("%Y-%m-%dT%H:%M:%SZ")),
    "persons": ("updated_at", lambda t: t.strftime("%Y-%m-%dT%H:%M:%SZ")),
    "absence_periods": ("updated_at", lambda t: t.strftime("%Y-%m-%dT%H:%M:%SZ")),
    "recruiting_candidates": ("updated_at", lambda t: t.strftime("%Y-%m-%dT%H:%M:%SZ")),
    "recruiting_applications": ("updated_at", lambda t: t.strftime("%Y-%m-%dT%H:%M:%SZ")),
}


def stream_cursor(config: Dict[str, Any], stream: str, state: Optional[Mapping[str, Any]] = None):
    saved = StateBuilder().with_stream_state(stream, state).build() if state is not None else None
    source = SourcePersonio(config=config, state=saved)
    return next(s for s in source.streams(config) if s.name == stream).cursor


def read_in_one_slice(cursor, stream: str, field: str, stamps: List[str]) -> Optional[dt.datetime]:
    """Drive the cursor as the concurrent read does: cut the slice, observe the records, close it.
    Returns the saved state as a datetime (None: no state)."""
    (stream_slice,) = list(cursor.stream_slices())
    for n, stamp in enumerate(stamps):
        cursor.observe(Record(data={"id": n, field: stamp}, stream_name=stream, associated_slice=stream_slice))
    cursor.close_partition(FakePartition(stream_slice))
    value = cursor.state.get(field)
    return ab_datetime_parse(value) if value else None


def now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0)


@pytest.mark.parametrize("stream", sorted(SINGLE_SLICE_STREAMS))
def test_a_record_changed_during_the_read_leaves_a_state_before_the_read_started(config, stream):
    field, personio_time = SINGLE_SLICE_STREAMS[stream]
    cursor = stream_cursor(config, stream)
    assert isinstance(cursor, ReadStartBoundedCursor)
    read_started = now()
    # page 1: an old record; a second later another record changes before page 5 is read
    # (the record of page 1 changed too, right after page 1 was served: the next sync must read it)
    first_record_changed_at = read_started + dt.timedelta(seconds=1)
    state = read_in_one_slice(cursor, stream, field, [personio_time(read_started - dt.timedelta(days=30)), personio_time(read_started + dt.timedelta(seconds=2))])
    assert state is not None
    assert state < first_record_changed_at, f"{stream}: state {state} would skip a change made at {first_record_changed_at}"
    # and the re-read is bounded: at most the margin (plus the second the formats drop) before the read
    assert state >= read_started - CLOCK_SKEW_MARGIN - dt.timedelta(seconds=1)


def test_the_cdk_cursor_saves_the_newest_record_and_skips_a_change_made_during_the_read(config):
    """What ReadStartBoundedCursor exists for: the CDK state is the newest updated_at read."""
    field, personio_time = SINGLE_SLICE_STREAMS["persons"]
    cursor = stream_cursor(config, "persons")
    cursor.__class__ = ConcurrentCursor
    read_started = now()
    newest = read_started + dt.timedelta(seconds=2)
    state = read_in_one_slice(cursor, "persons", field, [personio_time(read_started - dt.timedelta(days=30)), personio_time(newest)])
    assert state == newest  # a change at read_started + 1 s is older than this state: never read


@pytest.mark.parametrize("stream", ["persons", "employees", "attendances"])
def test_a_read_of_records_older_than_its_start_saves_the_newest_record(config, stream):
    field, personio_time = SINGLE_SLICE_STREAMS[stream]
    newest = now() - dt.timedelta(days=2)
    state = read_in_one_slice(stream_cursor(config, stream), stream, field, [personio_time(newest - dt.timedelta(days=5)), personio_time(newest)])
    assert state == newest


def test_a_read_without_records_keeps_the_previous_state(config):
    cursor = stream_cursor(config, "persons", state={"updated_at": "2026-11-20T10:00:00Z"})
    assert read_in_one_slice(cursor, "persons", "updated_at", []) == ab_datetime_parse("2026-11-20T10:00:00Z")


def test_the_state_never_moves_back_when_syncs_run_within_the_margin(config):
    """The previous sync saved a state less than the margin ago: the bound never lowers it."""
    previous = now() - dt.timedelta(minutes=1)
    cursor = stream_cursor(config, "persons", state={"updated_at": previous.strftime("%Y-%m-%dT%H:%M:%SZ")})
    state = read_in_one_slice(cursor, "persons", "updated_at", [(now() + dt.timedelta(seconds=2)).strftime("%Y-%m-%dT%H:%M:%SZ")])
    assert state == previous


@pytest.mark.parametrize(
    "child, parent", [("employments", "persons"), ("absence_period_breakdowns", "absence_periods"), ("recruiting_application_stage_transitions", "recruiting_applications")]
)
def test_parent_streams_of_substreams_are_bounded_too(config, child, parent):
    """The parent's state decides which parents the next sync reads: it is bounded the same way."""
    cursor = stream_cursor(config, child)
    (parent_config,) = cursor._partition_router.parent_stream_configs
    parent_cursor = parent_config.stream.cursor
    assert parent_config.stream.name == parent and isinstance(parent_cursor, ReadStartBoundedCursor)
    read_started = now()
    state = read_in_one_slice(parent_cursor, parent, "updated_at", [(read_started + dt.timedelta(seconds=2)).strftime("%Y-%m-%dT%H:%M:%SZ")])
    assert state < read_started


def test_streams_not_read_up_to_now_in_one_slice_keep_the_cdk_cursor(config):
    """compensations is sliced by month (its re-read is compensations_lookback_months)."""
    assert type(stream_cursor(config, "compensations")) is ConcurrentCursor


def test_a_global_substream_starts_the_margin_before_the_previous_sync(config):
    """The CDK starts a global substream's partitions at its state minus the previous sync's duration
    (lookback_window, seconds); the margin comes on top, as for the streams read in one slice."""
    state = {**STATE, "lookback_window": 60}
    cursor = employments_cursor(config, state=state)
    cursor._partition_router = FakePersonsRouter([1])
    (stream_slice,) = list(cursor.stream_slices())
    start = ab_datetime_parse(stream_slice.cursor_slice["start_time"])
    assert start == ab_datetime_parse("2024-03-01T00:00:00Z") - dt.timedelta(seconds=60) - CLOCK_SKEW_MARGIN


def test_a_concurrent_cursor_of_another_cdk_layout_stops_the_connector():
    from airbyte_cdk.sources.streams.concurrent.cursor import ConcurrentCursor

    from source_personio.cursors import as_read_start_bounded_cursor

    not_a_cursor = object()
    assert as_read_start_bounded_cursor(not_a_cursor) is not_a_cursor
    bare = ConcurrentCursor.__new__(ConcurrentCursor)  # a ConcurrentCursor without the attributes it is read by
    with pytest.raises(CdkAdaptationError) as error:
        as_read_start_bounded_cursor(bare)
    assert "'read_start_bounded_state'" in error.value.message
