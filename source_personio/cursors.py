"""Cursors: substreams whose memory does not grow with company size, and states bounded by the
start of their read.

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

Every stream read in one slice up to now (Personio's ``updated_at`` filters) gets a
:class:`ReadStartBoundedCursor`: its saved state never passes the moment its read started, so the
next sync re-reads every record that changed while this one was reading.
"""

from __future__ import annotations

import datetime
import logging
import threading
from typing import Any, Optional, Tuple

from airbyte_cdk.sources.streams.concurrent.cursor import ConcurrentCursor
from airbyte_cdk.sources.streams.concurrent.state_converters.datetime_stream_state_converter import (
    DateTimeStreamStateConverter,
)

from source_personio.cdk_adaptations import BY_NAME, CdkAdaptationError, require_attributes

try:  # the CDK layout these classes are written against (cdk_adaptations: global_substream_cursor)
    from airbyte_cdk.sources.declarative.incremental.concurrent_partition_cursor import ConcurrentPerPartitionCursor
except ImportError:
    raise CdkAdaptationError(
        "global_substream_cursor", "airbyte_cdk.sources.declarative.incremental.concurrent_partition_cursor:ConcurrentPerPartitionCursor"
    ) from None

logger = logging.getLogger("airbyte")

# How far before the start of a read its state stays: Personio stamps updated_at with its own clock
# (ours may run ahead of it) and a change stamped just before the read may only become visible to
# list requests a moment later. What it costs: the records changed in those minutes before a sync
# are read again by the next one (at-least-once).
CLOCK_SKEW_MARGIN = datetime.timedelta(minutes=5)

# Attributes of ConcurrentPerPartitionCursor that GlobalSubstreamCursor relies on.
_REQUIRED_ATTRIBUTES = BY_NAME["global_substream_cursor"].instance_attributes


class GlobalSubstreamCursor(ConcurrentPerPartitionCursor):
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
        if cursor_state:
            # The CDK starts the next sync's partitions at the global state minus the previous sync's
            # duration (its runtime lookback): every child changed during that sync is read again.
            # CLOCK_SKEW_MARGIN on top, as for the streams read in one slice (ReadStartBoundedCursor).
            runtime_lookback_window = int(runtime_lookback_window or 0) + int(CLOCK_SKEW_MARGIN.total_seconds())
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
    """A CDK ``ConcurrentPerPartitionCursor`` (exactly that class) in global mode. Such a cursor without the
    layout :class:`GlobalSubstreamCursor` was written for raises :class:`CdkAdaptationError`."""
    if type(cursor) is not ConcurrentPerPartitionCursor or getattr(cursor, "_use_global_cursor", False) is not True:
        return False
    require_attributes("global_substream_cursor", cursor, _REQUIRED_ATTRIBUTES)
    if not isinstance(cursor._lock, type(threading.Lock())):
        raise CdkAdaptationError("global_substream_cursor", "ConcurrentPerPartitionCursor._lock", "is not a threading.Lock")
    return True


def as_global_substream_cursor(cursor: Any) -> Any:
    """``cursor`` as a :class:`GlobalSubstreamCursor` when :func:`is_replaceable`, else unchanged.

    The cursor is freshly built and not yet used (its state, factory and router stay as the CDK set
    them); only its class changes, so every ``isinstance`` check of the CDK still holds. Installed by
    ``cdk_adaptations.PersonioComponentFactory`` (adaptation ``global_substream_cursor``)."""
    if is_replaceable(cursor):
        cursor.__class__ = GlobalSubstreamCursor
    return cursor


# -- state bounded by the start of the read ------------------------------------------------------


class ReadStartBoundedCursor(ConcurrentCursor):
    """``ConcurrentCursor`` of a stream read in one slice from its state up to now, whose state never
    passes the moment that slice was cut (the start of the stream's read) minus ``CLOCK_SKEW_MARGIN``.

    CDK default it replaces: ``ConcurrentCursor`` saves the highest cursor value of the records it read
    (``most_recent_cursor_value``), never bounded by the slice's end; the manifest's ``end_datetime``
    only sets that end, ``lookback_window`` moves the next start back by a fixed time, and
    ``is_data_feed``/``is_client_side_incremental`` stop or drop records rather than bound the state.
    Personio keeps changing records while a sync reads them, and its lists are not in ``updated_at``
    order (persons by id, attendance periods by person, recruiting newest first): a record read on
    page 1 and changed a second later, then another changed later still and read on page 5, left the
    second one's ``updated_at`` as the state, and the next sync (``updated_at.gt`` the state) never
    saw the first change. Every change made after the read started is stamped after the slice's end,
    so a state no later than that end minus the margin has the next sync read it again.

    The state still never moves back (the CDK merges the slice with the previous state), and a read
    that saw no record keeps the previous state. Streams with a ``step`` (compensations, by month) or
    an ``end_datetime`` (breakdowns) keep the CDK's cursor: their slices do not end at "now".
    """

    margin: datetime.timedelta = CLOCK_SKEW_MARGIN

    def _add_slice_to_state(self, partition: Any) -> None:
        slices = self._concurrent_state.get("slices", [])
        count = len(slices)
        super()._add_slice_to_state(partition)
        if len(self._concurrent_state.get("slices", [])) != count + 1:
            return
        added = self._concurrent_state["slices"][-1]
        converter = self._connector_state_converter
        most_recent = added.get(converter.MOST_RECENT_RECORD_KEY)
        bound = added[converter.END_KEY] - self.margin
        if most_recent is not None and most_recent > bound:
            added[converter.MOST_RECENT_RECORD_KEY] = bound


def reads_up_to_now_in_one_slice(cursor: Any) -> bool:
    """A CDK ``ConcurrentCursor`` (exactly that class) on timestamps, without ``step`` or ``end_datetime``:
    one slice from the state to the moment its slices are cut. A ``ConcurrentCursor`` without the layout
    :class:`ReadStartBoundedCursor` was written for raises :class:`CdkAdaptationError`."""
    from airbyte_cdk.utils.datetime_helpers import ab_datetime_now

    if type(cursor) is not ConcurrentCursor:
        return False
    require_attributes("read_start_bounded_state", cursor, BY_NAME["read_start_bounded_state"].instance_attributes)
    return (
        isinstance(cursor._connector_state_converter, DateTimeStreamStateConverter)
        and cursor._slice_range == datetime.timedelta.max
        and cursor._end_provider is ab_datetime_now
        and cursor._slice_boundary_fields is not None
    )


def as_read_start_bounded_cursor(cursor: Any) -> Any:
    """``cursor`` as a :class:`ReadStartBoundedCursor` when :func:`reads_up_to_now_in_one_slice`, else
    unchanged (freshly built: only its class changes, every ``isinstance`` check of the CDK holds). Installed by
    ``cdk_adaptations.PersonioComponentFactory`` (adaptation ``read_start_bounded_state``)."""
    if reads_up_to_now_in_one_slice(cursor):
        cursor.__class__ = ReadStartBoundedCursor
    return cursor
