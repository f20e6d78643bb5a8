"""Substream cursors whose memory does not grow with company size.

Personio has no endpoints that list employments, absence-period breakdowns or application stage
transitions for a whole company: they are read one parent at a time (``/v2/persons/{id}/employments``,
``/v2/absence-periods/{id}/breakdowns``, ``/v2/recruiting/applications/{id}/history``), so a sync has
one substream partition per person, absence period or application: tens of thousands in a large
company. The manifest gives these streams one global cursor (``global_substream_cursor: true``): their
state is a single ``updated_at``/``date`` plus the parent's state, never one entry per partition.

The CDK's ``ConcurrentPerPartitionCursor`` still keeps a ``ConcurrentCursor`` per partition in global
mode (evicted only above 25,000 of them), although nothing reads it once the partition is closed, and
builds a new cursor (deep copy of the state + component factory) for every record it filters. Peak
memory then grew by ~40 % from 2,000 to 20,000 employees. :class:`GlobalSubstreamCursor` releases a
partition's cursor when the partition is closed and filters every record with one cursor built from
the global state; state, checkpoints and what is re-read after an interruption are unchanged.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Callable, Optional, Tuple

from airbyte_cdk.sources.streams.concurrent.cursor import ConcurrentCursor

try:  # the CDK layout these classes are written against
    from airbyte_cdk.sources.declarative.incremental.concurrent_partition_cursor import ConcurrentPerPartitionCursor
except ImportError:  # pragma: no cover - another CDK: install_global_substream_cursors keeps its default
    ConcurrentPerPartitionCursor = None  # type: ignore[assignment,misc]

_Base: Any = ConcurrentPerPartitionCursor if ConcurrentPerPartitionCursor is not None else object

logger = logging.getLogger("airbyte")

# Attributes of ConcurrentPerPartitionCursor that GlobalSubstreamCursor relies on.
_REQUIRED_ATTRIBUTES = (
    "_use_global_cursor",
    "_global_cursor",
    "_lookback_window",
    "_cursor_per_partition",
    "_semaphore_per_partition",
    "_partitions_done_generating_stream_slices",
    "_lock",
)


class GlobalSubstreamCursor(_Base):  # type: ignore[misc,valid-type]
    """``ConcurrentPerPartitionCursor`` for a substream with one global cursor (Personio's per-person,
    per-absence-period and per-application streams, see the module docstring).

    In global mode:
    * a partition's own cursor is dropped when the partition is closed (with its semaphore, which the
      CDK already drops): the global state never reads it, so memory stays bounded by the partitions
      in flight instead of growing with every person or absence period of the company;
    * every partition's slices and ``should_be_synced`` use one cursor built from the global state and
      lookback window (rebuilt only when they change, i.e. at the end of the sync) instead of one per
      partition and one per record (see ``_create_cursor``).

    In per-partition mode (never used by this manifest) everything is the CDK's.
    """

    # (global state object, lookback window, the cursor built from them), replaced as one tuple (threads)
    _shared: Optional[Tuple[Any, Any, ConcurrentCursor]] = None

    def _create_cursor(self, cursor_state: Any, runtime_lookback_window: int = 0) -> ConcurrentCursor:
        """In global mode every partition gets the same cursor for the same global state and lookback.

        A partition's cursor then only cuts its slices (the global state's interval) and filters: it
        never observes a record or closes a partition (the CDK skips both in global mode), so one
        instance serves them all -- instead of a component-factory build with its Jinja rendering per
        person, absence period or application (~8 % of a sync's CPU at 2,000 employees)."""
        if not self._use_global_cursor:
            return super()._create_cursor(cursor_state, runtime_lookback_window)
        shared = self._shared
        if shared is None or shared[0] is not cursor_state or shared[1] != runtime_lookback_window:
            built = super()._create_cursor(cursor_state, runtime_lookback_window)
            shared = self._shared = (cursor_state, runtime_lookback_window, built)
        return shared[2]

    def _cleanup_if_done(self, partition_key: str) -> None:
        done = (
            partition_key in self._partitions_done_generating_stream_slices
            and partition_key in self._semaphore_per_partition
            and self._semaphore_per_partition[partition_key]._value == 0
        )
        super()._cleanup_if_done(partition_key)
        if done and self._use_global_cursor:
            # Called with self._lock held (close_partition).
            self._cursor_per_partition.pop(partition_key, None)


def is_replaceable(cursor: Any) -> bool:
    """A CDK ``ConcurrentPerPartitionCursor`` (exactly that class) in global mode, with the layout
    :class:`GlobalSubstreamCursor` was written for."""
    return (
        ConcurrentPerPartitionCursor is not None
        and type(cursor) is ConcurrentPerPartitionCursor
        and getattr(cursor, "_use_global_cursor", False) is True
        and all(hasattr(cursor, name) for name in _REQUIRED_ATTRIBUTES)
        and isinstance(getattr(cursor, "_lock", None), type(threading.Lock()))
    )


def as_global_substream_cursor(cursor: Any) -> Any:
    """``cursor`` as a :class:`GlobalSubstreamCursor` when :func:`is_replaceable`, else unchanged.

    The cursor is freshly built and not yet used (its state, factory and router stay as the CDK set
    them); only its class changes, so every ``isinstance`` check of the CDK still holds."""
    if is_replaceable(cursor):
        cursor.__class__ = GlobalSubstreamCursor
    return cursor


def install_global_substream_cursors(source: Any) -> bool:
    """Make the source's component factory hand out :class:`GlobalSubstreamCursor` for substreams
    with a global cursor. Streams are built by this factory when a read starts (after
    ``SourcePersonio.__init__``). Returns False (CDK default kept) when the CDK layout differs."""
    factory = getattr(source, "_constructor", None)
    create: Optional[Callable[..., Any]] = getattr(factory, "create_concurrent_cursor_from_perpartition_cursor", None)
    if ConcurrentPerPartitionCursor is None or factory is None or not callable(create):
        return False
    if getattr(create, "_personio_global_substream_cursor", False):
        return True

    def create_concurrent_cursor_from_perpartition_cursor(*args: Any, **kwargs: Any) -> Any:
        return as_global_substream_cursor(create(*args, **kwargs))

    create_concurrent_cursor_from_perpartition_cursor._personio_global_substream_cursor = True  # type: ignore[attr-defined]
    factory.create_concurrent_cursor_from_perpartition_cursor = create_concurrent_cursor_from_perpartition_cursor
    return True
