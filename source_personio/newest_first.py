"""Newest-first v2 lists read by their documented order, so that what a cursor means never matters.

Personio quirk: ``GET /v2/recruiting/candidates`` is documented "sorted by last updated, newest first", and its
``updated_at.gt`` / ``updated_at.lt`` filters are mutually exclusive (reference §3, v2 table), so it cannot be read
in ``updated_at`` windows with both bounds like the other v2 lists (:mod:`source_personio.time_windows`). Its
cursors are opaque: if one is a position in the current list, a candidate deleted among those already read shifts
the next page and one *unchanged* candidate is skipped, which no incremental state brings back.

How the list is read instead (docs/personio.md, "How v2 lists survive changes"):

* **Keyset on the documented order.** The first request is the stream's own (``updated_at.gt`` the state, or
  nothing). Each later one asks, without a cursor and without ``.gt``, for what is older than the oldest second of
  the page before, that second included: ``updated_at.lt`` = that second + 1 s. It is a first page again, so a
  delete or insert newer than that second cannot shift it. The records of the boundary second come twice;
  :class:`DropRepeatsOfNewestFirstRead` drops the second copy.
* **End** of a pass: a response without a ``next`` link, or a page whose oldest record is not newer than the
  pass's lower bound (the state); the records not newer than it are dropped, as ``.gt`` would have.
* **What changed during the read.** A candidate updated while the list is read moves to the front, ahead of the
  read position. A read that took more than one request therefore makes one more pass, ``updated_at.gt`` = the
  start of the read minus ``CLOCK_SKEW_MARGIN`` (usually one request), so a full refresh has it too (an
  incremental state, bounded by the read's start, would have the next sync read it anyway; the CDK gives a full
  refresh and a first incremental sync the same slice, so both make the pass). Its old version, if read before it
  changed, is emitted as well (at-least-once).
* **More than a page with one second**: ``.lt`` cannot get past that second, so it is read by following
  Personio's cursor until a page reaches an older second, with one warning (a delete during those pages could
  make the sync miss a record of that second). A page not in newest-first order (Personio changed the order)
  makes the rest of the read follow the cursor, with one warning.
"""

from __future__ import annotations

import datetime
import logging
import time
from dataclasses import InitVar, dataclass, field
from typing import Any, Dict, Iterable, List, Mapping, Optional, Set, Tuple
from urllib.parse import parse_qs, urlsplit

import requests

from airbyte_cdk.sources.declarative.extractors.record_filter import RecordFilter
from airbyte_cdk.sources.declarative.requesters.paginators.strategies.pagination_strategy import (
    PaginationStrategy,
)
from airbyte_cdk.sources.types import Config, Record, StreamSlice, StreamState

from source_personio.cursors import CLOCK_SKEW_MARGIN
from source_personio.extractors import response_json
from source_personio.pagination import next_cursor
from source_personio.slice_scope import PerSliceRead
from source_personio.timestamps import epoch_seconds

logger = logging.getLogger("airbyte")

_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


@dataclass
class _Read:
    started: Optional[int] = None  # epoch s: the first response of the read, minus CLOCK_SKEW_MARGIN
    requests: int = 0  # of the current pass
    follow_cursor: bool = False  # the list was seen out of order: the rest of the read follows cursors
    warned: Set[str] = field(default_factory=set)


@dataclass
class NewestFirstKeysetPagination(PaginationStrategy):
    """The strategy of the module docstring. The token is ``{"gt", "lt", "cursor", "phase", "floor"}``; the manifest
    sends ``gt``/``lt``/``cursor`` as ``updated_at.gt``/``updated_at.lt``/``cursor`` (an empty value is not sent);
    ``floor`` is the pass's lower bound in epoch seconds (None: none)."""

    config: Config
    parameters: InitVar[Mapping[str, Any]]
    page_size: int = 200
    cursor_field: str = "updated_at"
    lower_param: str = "updated_at.gt"
    timestamp_format: str = "%Y-%m-%dT%H:%M:%SZ"

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        self.page_size = int(self.page_size)
        self._stream_name = str((parameters or {}).get("name") or "a v2 stream")
        self._reads: PerSliceRead[_Read] = PerSliceRead(_Read)

    @property
    def initial_token(self) -> Optional[Any]:
        return None

    def get_page_size(self) -> Optional[int]:
        return self.page_size

    def _format(self, epoch: int) -> str:
        return (_EPOCH + datetime.timedelta(seconds=epoch)).strftime(self.timestamp_format)

    def _first_floor(self, response: requests.Response) -> Optional[int]:
        url = getattr(getattr(response, "request", None), "url", None) or getattr(response, "url", "") or ""
        value = (parse_qs(urlsplit(url).query).get(self.lower_param) or [None])[0]
        return epoch_seconds(value) if value else None

    def next_page_token(
        self,
        response: requests.Response,
        last_page_size: int,
        last_record: Optional[Record],
        last_page_token_value: Optional[Any],
        page_size_override: Optional[int] = None,
        stream_slice: Optional[StreamSlice] = None,
    ) -> Optional[Any]:
        try:
            body = response_json(response)
        except ValueError:
            return None
        items = body.get("_data") if isinstance(body, dict) else None
        read = self._reads.get(stream_slice)
        if read.started is None:
            read.started = int(time.time() - CLOCK_SKEW_MARGIN.total_seconds())
        read.requests += 1
        token = dict(last_page_token_value) if isinstance(last_page_token_value, Mapping) else {}
        phase = token.get("phase", "first")
        floor = token["floor"] if "floor" in token else self._first_floor(response)
        if not isinstance(items, list):
            logger.warning(
                f"Stream {self._stream_name}: Personio answered a page without a list of records; the read of this "
                "list ends there, so records after it may be missing from this sync."
            )
            return self._end_of_pass(read, phase, stream_slice)
        cursor = next_cursor(body)
        stamps = [epoch_seconds(i.get(self.cursor_field)) if isinstance(i, Mapping) else None for i in items]
        ordered = None not in stamps and all(a >= b for a, b in zip(stamps, stamps[1:]))
        if not ordered and not read.follow_cursor:
            read.follow_cursor = True
            self._warn_once(
                read,
                "order",
                f"Stream {self._stream_name}: Personio sent a page that is not sorted newest-updated first (its "
                "documented order), so the rest of this read follows Personio's cursors; a record deleted during the "
                "read could make this sync miss one that did not change (the next sync that reads it again has it).",
            )
        if cursor is None or not items:
            return self._end_of_pass(read, phase, stream_slice)
        if read.follow_cursor:
            return {**token, "cursor": cursor, "phase": phase, "floor": floor}
        oldest = stamps[-1]
        if floor is not None and oldest <= floor:
            return self._end_of_pass(read, phase, stream_slice)
        asked_below = epoch_seconds(token.get("lt")) if token.get("lt") else None
        if asked_below is not None and oldest + 1 >= asked_below:
            # a full page of one second: .lt cannot get past it; the cursor reads the rest of that second
            self._warn_once(
                read,
                f"second {oldest}",
                f"Stream {self._stream_name}: more than a page of records share the updated_at second "
                f"{self._format(oldest)}; they are read with Personio's cursor, so a record of that second deleted "
                "during those pages could make this sync miss another one of that second.",
            )
            return {"gt": "", "lt": token["lt"], "cursor": cursor, "phase": phase, "floor": floor}
        return {"gt": "", "lt": self._format(oldest + 1), "cursor": "", "phase": phase, "floor": floor}

    def _end_of_pass(self, read: _Read, phase: str, stream_slice: Optional[StreamSlice]) -> Optional[Any]:
        if phase == "first" and read.requests > 1 and read.started is not None:
            read.requests = 0
            floor = read.started
            return {"gt": self._format(floor), "lt": "", "cursor": "", "phase": "changed", "floor": floor}
        self._reads.forget(stream_slice)
        return None

    def _warn_once(self, read: _Read, what: str, message: str) -> None:
        if what not in read.warned:
            read.warned.add(what)
            logger.warning(message)


@dataclass
class DropRepeatsOfNewestFirstRead(RecordFilter):
    """Drop what :class:`NewestFirstKeysetPagination` reads twice on purpose: the records of a page's oldest second
    (asked for again by the next page) and records the pass for "changed during the read" finds unchanged, plus the
    records not newer than the slice's ``start_time`` (the state: ``updated_at.gt`` would have left them out, but it
    cannot be sent with ``.lt``). Memory: the keys of one second, and of records changed since the read started."""

    key: str = "id"
    cursor_field: str = "updated_at"

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        super().__post_init__(parameters)
        self._reads: PerSliceRead[Dict[str, Any]] = PerSliceRead(dict)

    def filter_records(
        self,
        records: Iterable[Mapping[str, Any]],
        stream_state: StreamState,
        stream_slice: Optional[StreamSlice] = None,
        next_page_token: Optional[Mapping[str, Any]] = None,
    ) -> Iterable[Mapping[str, Any]]:
        # the CDK hands a record filter no page token, so the floor is the slice's start (the state)
        start = stream_slice.get("start_time") if isinstance(stream_slice, Mapping) else None
        floor = epoch_seconds(start) if start and not str(start).startswith("1970-01-01") else None
        read = self._reads.get(stream_slice)
        if "started" not in read:
            read["started"] = int(time.time() - CLOCK_SKEW_MARGIN.total_seconds()) - 1
            read["boundary"], read["recent"] = (None, set()), set()
        boundary_second, boundary_keys = read["boundary"]
        recent: Set[Tuple[Any, int]] = read["recent"]
        page: List[Tuple[Any, Optional[int]]] = []
        for record in records:
            key, stamp = record.get(self.key), epoch_seconds(record.get(self.cursor_field))
            page.append((key, stamp))
            if stamp is not None and floor is not None and stamp <= floor:
                continue
            if key is not None and stamp is not None:
                if stamp == boundary_second and key in boundary_keys:
                    continue
                if (key, stamp) in recent:
                    continue
                if stamp >= read["started"]:
                    recent.add((key, stamp))
            yield record
        stamps = [s for _, s in page if s is not None]
        if stamps:
            oldest = min(stamps)
            keys = {k for k, s in page if s == oldest}
            read["boundary"] = (oldest, keys | (boundary_keys if oldest == boundary_second else set()))
