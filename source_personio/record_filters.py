"""Record filters."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, List, Mapping, Optional, Set

from airbyte_cdk.sources.declarative.extractors.record_filter import RecordFilter
from airbyte_cdk.sources.types import StreamSlice, StreamState

from source_personio.pagination import v1_record_id
from source_personio.slice_scope import PerSliceRead


@dataclass
class EmitEachRecordOnce(RecordFilter):
    """Drop a record already emitted by the same read of the same slice (one sync's read of a list).

    Personio quirk: v1 offset pages shift while they are read. The overlapping paginators
    (:mod:`source_personio.pagination`) read one record per page twice on purpose, re-read pages to
    close gaps left by deletes, and a record inserted before the read position is served again on
    the next page; Personio has also served one record on two pages by itself. Each of those would
    be a duplicate row in a "Full refresh | Overwrite" table. Only the keys are kept (memory: one
    key per record of the list); the first copy is emitted, so nothing is delayed.

    ``key``: the fields of the extracted record (before transformations) that identify it; without
    it the v1 id (``attributes.id.value`` or ``attributes.id``). A record without a key is emitted.
    """

    key: Optional[List[str]] = None

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        super().__post_init__(parameters)
        self._emitted: PerSliceRead[Set[Any]] = PerSliceRead(set)

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
                if key in emitted:
                    continue
                emitted.add(key)
            except TypeError:  # an unhashable id: cannot be compared, so never dropped
                pass
            yield record
