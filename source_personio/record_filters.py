"""Record filters: each record once per read of a list that repeats records on purpose (v1 overlapping pages,
v2 updated_at windows)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Mapping, Optional, Set, Tuple

from airbyte_cdk.sources.declarative.extractors.record_filter import RecordFilter
from airbyte_cdk.sources.types import StreamSlice, StreamState

from source_personio.compact_keys import CompactKeys
from source_personio.pagination import v1_record_id
from source_personio.slice_scope import PerSliceRead
from source_personio.time_windows import window_start
from source_personio.timestamps import epoch_seconds


@dataclass
class EmitEachRecordOnce(RecordFilter):
    """Drop a record already emitted by the same read of the same slice (one sync's read of a list).

    Personio quirk: v1 offset pages shift while they are read. The overlapping paginators
    (:mod:`source_personio.pagination`) read one record per page twice on purpose, re-read pages to
    close gaps left by deletes, and a record inserted before the read position is served again on
    the next page; Personio has also served one record on two pages by itself. Each of those would
    be a duplicate row in a "Full refresh | Overwrite" table. Only the keys are kept, packed to 8 bytes
    each where they are integers and dates (:class:`source_personio.compact_keys.CompactKeys`); the first
    copy is emitted, so nothing is delayed.

    ``key``: the fields of the extracted record (before transformations) that identify it; without
    it the v1 id (``attributes.id.value`` or ``attributes.id``). A record without a key is emitted.
    """

    key: Optional[List[str]] = None

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        super().__post_init__(parameters)
        self._emitted: PerSliceRead[CompactKeys] = PerSliceRead(CompactKeys)

    def _key_of(self, record: Mapping[str, Any]) -> Any:
        if not self.key:
            return v1_record_id(record)
        values = tuple(record.get(name) for name in self.key)
        return None if all(v is None for v in values) else values

    def filter_records(
        self,
        records: Iterable[Mapping[str, Any]],
        stream_state: StreamState,
        stream_slice: Optional[StreamSlice] = None,
        next_page_token: Optional[Mapping[str, Any]] = None,
    ) -> Iterable[Mapping[str, Any]]:
        emitted = self._emitted.get(stream_slice)
        for record in records:
            key = self._key_of(record)
            if key is None:
                yield record
                continue
            try:
                if not emitted.add(key):
                    continue
            except TypeError:  # an unhashable id: cannot be compared, so never dropped
                pass
            yield record


@dataclass
class _Versions:
    """The record versions one windowed read has emitted and may still see again: key -> its second."""

    seconds: Dict[Any, int] = field(default_factory=dict)
    since: Optional[int] = None

    def forget_before(self, second: Optional[int]) -> None:
        if second is None or (self.since is not None and second <= self.since):
            return
        self.since = second
        self.seconds = {k: t for k, t in self.seconds.items() if t >= second}


@dataclass
class EmitEachWindowedRecordOnce(RecordFilter):
    """Drop a record version already emitted by the same read of a v2 list read in ``updated_at`` windows.

    Personio quirk (see :mod:`source_personio.time_windows`): v2 cursors may be positions, so those lists
    are read in ``updated_at`` windows, and windows repeat records on purpose: the records of an oversized
    window's page come again in the smaller windows it is split into, and the second where one window ends
    is read again as the first second of the next. A record version is its ``id`` with its ``updated_at``;
    the first copy is emitted. Memory stays within the windows being read, not the list: window starts
    never move back, so a version older than the current window's start
    (:func:`source_personio.time_windows.window_start`) cannot come again and is forgotten. A record that
    changes during the read has two versions (an old ``updated_at`` in an earlier window, a new one in a
    later window) and both are emitted (at-least-once; the destination's dedup keeps the newest). A record
    without an ``id`` or a readable ``updated_at`` is emitted.

    ``condition``: RecordFilter's own condition, applied first when set.
    """

    cursor_field: str = "updated_at"

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        super().__post_init__(parameters)
        self._emitted: PerSliceRead[_Versions] = PerSliceRead(_Versions)
        self.largest_held = 0  # the most record versions one read kept at once (its memory), for tests

    def filter_records(
        self,
        records: Iterable[Mapping[str, Any]],
        stream_state: StreamState,
        stream_slice: Optional[StreamSlice] = None,
        next_page_token: Optional[Mapping[str, Any]] = None,
    ) -> Iterable[Mapping[str, Any]]:
        if self.condition:
            records = super().filter_records(records, stream_state, stream_slice, next_page_token)
        versions = self._emitted.get(stream_slice)
        versions.forget_before(window_start(stream_slice))
        for record in records:
            key, second = self._version_of(record)
            if key is None or second is None:
                yield record
                continue
            if key in versions.seconds:
                continue
            versions.seconds[key] = second
            self.largest_held = max(self.largest_held, len(versions.seconds))
            yield record

    def _version_of(self, record: Mapping[str, Any]) -> Tuple[Any, Optional[int]]:
        record_id = record.get("id") if isinstance(record, Mapping) else None
        stamp = record.get(self.cursor_field) if isinstance(record, Mapping) else None
        second = epoch_seconds(stamp)
        if record_id is None or second is None:
            return None, None
        text = stamp.get("date-time") if isinstance(stamp, Mapping) else stamp
        try:
            key = (record_id, str(text))
            hash(key)
        except TypeError:  # an unhashable id: cannot be compared, so never dropped
            return None, None
        return key, second

