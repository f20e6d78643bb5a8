"""Personio v2 lists read in ``updated_at`` windows of one page each, so that what a v2 cursor means never matters.

Personio quirk: v2 lists are paged by opaque cursors, and Personio documents nothing about what a cursor
encodes (reference §2.3). If a cursor is a position in the current list, a record deleted before the read
position shifts the next page left and one *unchanged* record is on neither page; no incremental state
brings it back (its ``updated_at`` never moves; for persons, the parent of employments, that person's
employments are skipped too). If it is a keyset or snapshot cursor, nothing is skipped. A connector that
must be safe under both cannot follow a cursor across a list that changes.

What :class:`UpdatedAtWindowPagination` does instead (docs/personio.md, "How v2 lists survive changes"):
the lists with a server-side ``updated_at`` filter that has a lower *and* an upper bound are read in
**windows** of ``updated_at``, each asked for without a cursor and meant to fit in one page. A response
is one atomic answer of the server, so a window answered without a ``next`` link is complete whatever the
cursor would have meant.

* **First request** = the stream's request as before (its lower bound from the state or start date, no
  upper bound): a list that fits in one page costs one request, as it always did.
* **Oversized window** (a ``next`` link): the window is split -- its upper bound moves to the middle of
  the window, or lower when the records already seen on oversized pages show that a wider one holds more
  than ``target_fill`` of a page -- and the smaller window is read. Records of the oversized response were
  emitted already; the smaller windows repeat them
  (:class:`source_personio.record_filters.EmitEachWindowedRecordOnce` drops the repeats).
* **Sorted lists** (``sorted_ascending``: the stream asks for ``sort=updated_at``): an oversized page holds
  the window's oldest records, so every record older than the page's last one was in that response; the
  window goes on from that record's second instead of being split (about one request per page). Their
  windows are sized for ``sorted_window_pages`` pages (one more request per window than its pages) and
  bounded above but the last, so a server never sorts more than that part of the list for one request.
* **Next window** starts where the complete one ended (the boundary second is read twice, so timestamps
  finer than the filter's seconds are never between two windows) and is as wide as the density just seen
  makes ``target_fill`` of a page, growing at most ``max_growth`` times per window.
* **The last window has no upper bound.** A record changed during the read gets a later ``updated_at``,
  i.e. moves into a window not read yet or into the open last one -- never back -- so every record that
  exists throughout the read is read.
* **A window that cannot be split** (two seconds wide and still more than a page) is read with the cursor
  and then read again, until two reads return the same records (at most ``max_rereads`` reads); if they
  never agree, one warning names the stream and the window.

Window lower bounds never decrease during a read. :data:`WINDOW_STARTS` publishes, per read, the first
second of the window being asked for, so the record filter can forget every record older than that: the
read will not see it again (the filter's memory stays within the windows being read, never the list).

The window of a response is read back from the request that produced it (its filter parameters), so the
strategy keeps only the per-read width estimate, the records seen ahead on oversized pages and the
fallback's reads (``PerSliceRead``: they live exactly as long as one read of one slice).
"""

from __future__ import annotations

import datetime
import logging
import time
from dataclasses import InitVar, dataclass, field
from typing import Any, Dict, FrozenSet, List, Mapping, Optional, Tuple
from urllib.parse import parse_qs, urlsplit

import requests

from airbyte_cdk.sources.declarative.requesters.paginators.strategies.pagination_strategy import (
    PaginationStrategy,
)
from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.types import Config, Record, StreamSlice
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_personio.extractors import response_json
from source_personio.pagination import next_cursor as next_cursor_of
from source_personio.slice_scope import PerSliceRead
from source_personio.timestamps import epoch_seconds

logger = logging.getLogger("airbyte")

_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


@dataclass
class _Start:
    second: Optional[int] = None  # the first second of the window being read (None: the first request)


#: Per read (slice object): the first second of the window the strategy asked for last. Written by
#: :class:`UpdatedAtWindowPagination`, read by ``record_filters.EmitEachWindowedRecordOnce``; the CDK
#: hands both components the same slice object for one read (see :mod:`source_personio.slice_scope`).
WINDOW_STARTS: PerSliceRead[_Start] = PerSliceRead(_Start)


def window_start(stream_slice: Optional[Any]) -> Optional[int]:
    """The first second of the window being read in this read, or None before the first window."""
    return WINDOW_STARTS.get(stream_slice).second


@dataclass
class _Read:
    width: Optional[int] = None  # seconds: the next window's width
    passes: List[FrozenSet[Any]] = field(default_factory=list)  # fallback: ids of each complete read
    current: set = field(default_factory=set)  # fallback: ids of the read in progress
    fallback_window: Optional[Tuple[int, Optional[int]]] = None  # fallback: the (lo, hi) read with the cursor
    warned_until: Optional[int] = None  # the end of the last window warned about
    ahead: Dict[Any, int] = field(default_factory=dict)  # id -> updated_at of records seen on oversized pages
    last_cursor: Optional[str] = None  # fallback: the next cursor last followed, and how often in a row
    cursor_repeats: int = 0


@dataclass
class UpdatedAtWindowPagination(PaginationStrategy):
    """The strategy of the module docstring for one v2 list.

    ``lower_param`` / ``upper_param``: the list's filter names (``updated_at.gte``/``.lte`` on attendance
    and absence periods, ``updated_at.gt``/``.lt`` on persons and recruiting applications); ``exclusive``:
    whether they are ``.gt``/``.lt`` (a window ``[lo, hi]`` is then sent as ``gt = lo - 1 s``,
    ``lt = hi + 1 s``); ``timestamp_format``: how the list wants them (attendance periods reject a trailing
    ``Z``). The token is ``{"lower", "upper", "cursor"}``, sent by the stream's request parameters (an
    empty value is not sent)."""

    config: Config
    parameters: InitVar[Mapping[str, Any]]
    page_size: int = 100
    lower_param: str = "updated_at.gte"
    upper_param: str = "updated_at.lte"
    exclusive: bool = False
    timestamp_format: str = "%Y-%m-%dT%H:%M:%S"
    cursor_field: str = "updated_at"
    target_fill: float = 0.75
    max_growth: float = 4.0
    max_rereads: int = 3
    sorted_ascending: bool = False
    sorted_window_pages: float = 10.0
    max_cursor_repeats: int = 3  # a next link naming the cursor just followed: asked again, then the stream fails

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        self.page_size = int(self.page_size)
        self.exclusive = str(self.exclusive).lower() in ("true", "1")
        self.sorted_ascending = str(self.sorted_ascending).lower() in ("true", "1")
        self.target_fill = float(self.target_fill)
        self.max_growth = float(self.max_growth)
        self.sorted_window_pages = float(self.sorted_window_pages)
        self.max_rereads = max(2, int(self.max_rereads))
        self._stream_name = str((parameters or {}).get("name") or "a v2 stream")
        self._reads: PerSliceRead[_Read] = PerSliceRead(_Read)

    # ---- PaginationStrategy
    @property
    def initial_token(self) -> Optional[Any]:
        return None

    def get_page_size(self) -> Optional[int]:
        return self.page_size

    def next_page_token(
        self,
        response: requests.Response,
        last_page_size: int,
        last_record: Optional[Record],
        last_page_token_value: Optional[Any],
        page_size_override: Optional[int] = None,
        stream_slice: Optional[StreamSlice] = None,
    ) -> Optional[Any]:
        token = self._next(response, stream_slice)
        if token is None:
            self._reads.forget(stream_slice)
            WINDOW_STARTS.forget(stream_slice)
        return token

    def _next(self, response: requests.Response, stream_slice: Optional[StreamSlice]) -> Optional[Any]:
        try:
            body = response_json(response)
        except ValueError:
            return None
        items = body.get("_data") if isinstance(body, dict) else None
        if not isinstance(items, list):
            logger.warning(
                f"Stream {self._stream_name}: Personio answered a page without a list of records; the read of this "
                "list ends there, so records after it may be missing from this sync."
            )
            return None
        next_cursor = next_cursor_of(body)
        lo, hi, cursor = self._window_of(response)
        read = self._reads.get(stream_slice)
        if cursor is not None or read.fallback_window == (lo, hi):
            return self._fallback(read, lo, hi, items, next_cursor, stream_slice)
        if next_cursor is None:
            return self._after_complete(read, lo, hi, items, stream_slice)
        return self._split(read, lo, hi, items, next_cursor, stream_slice)

    # ---- the window of a response, from its request
    def _window_of(self, response: requests.Response) -> Tuple[int, Optional[int], Optional[str]]:
        url = getattr(getattr(response, "request", None), "url", None) or getattr(response, "url", "") or ""
        query = parse_qs(urlsplit(url).query, keep_blank_values=False)
        lower = epoch_seconds((query.get(self.lower_param) or [None])[0])
        upper = epoch_seconds((query.get(self.upper_param) or [None])[0])
        if self.exclusive:
            lower = None if lower is None else lower + 1
            upper = None if upper is None else upper - 1
        cursor = (query.get("cursor") or [None])[0]
        return (0 if lower is None else lower), upper, cursor

    def _token(self, stream_slice: Any, lo: int, hi: Optional[int], cursor: Optional[str] = None) -> Dict[str, str]:
        WINDOW_STARTS.get(stream_slice).second = lo
        return self._render(lo, hi, cursor)

    def _render(self, lo: int, hi: Optional[int], cursor: Optional[str] = None) -> Dict[str, str]:
        if self.exclusive:
            lower, upper = lo - 1, (None if hi is None else hi + 1)
        else:
            lower, upper = lo, hi
        fmt = lambda t: (_EPOCH + datetime.timedelta(seconds=t)).strftime(self.timestamp_format)  # noqa: E731
        return {"lower": fmt(lower), "upper": "" if upper is None else fmt(upper), "cursor": cursor or ""}

    def _timestamps(self, items: List[Any]) -> List[int]:
        stamps = (epoch_seconds(i.get(self.cursor_field)) if isinstance(i, dict) else None for i in items)
        return sorted(t for t in stamps if t is not None)

    # ---- a complete window: the next one
    def _after_complete(self, read: _Read, lo: int, hi: Optional[int], items: List[Any], stream_slice: Any) -> Optional[Any]:
        if hi is None:  # the open last window: the list is read
            return None
        read.ahead = {k: t for k, t in read.ahead.items() if t > hi}  # the rest are behind the read now
        stamps = [t for t in self._timestamps(items) if lo <= t <= hi]
        populated = max(hi - (stamps[0] if stamps else lo), 1)
        # sorted windows may hold several pages (an oversized one goes on from its last record)
        pages = self.sorted_window_pages if self.sorted_ascending else 1.0
        wanted = max(self.target_fill * self.page_size * pages, 1.0)
        width = populated * wanted / max(len(stamps), 1)
        used = max(hi - lo, 1)
        width = int(min(width, used * self.max_growth)) if read.width is not None else int(width)
        read.width = max(width, 2)
        return self._window_from(read, hi, stream_slice)

    def _window_from(self, read: _Read, lo: int, stream_slice: Any) -> Dict[str, str]:
        now = int(time.time())
        hi = lo + int(read.width or 2)
        known = self._known_fill_end(read, lo)
        if known is not None and known < hi:
            hi = known
        return self._token(stream_slice, lo, None if hi >= now else hi)

    def _known_fill_end(self, read: _Read, lo: int) -> Optional[int]:
        """The latest end of a window from ``lo`` that holds fewer than ``target_fill`` of a page of the
        records already seen on oversized pages (known to exist, so a wider window is surely oversized)."""
        wanted = max(int(self.target_fill * self.page_size), 1)
        later = sorted(t for t in read.ahead.values() if t >= lo)
        if len(later) < wanted:
            return None
        return max(later[wanted - 1] - 1, lo + 2)

    # ---- an oversized window: split it
    def _split(self, read: _Read, lo: int, hi: Optional[int], items: List[Any], next_cursor: str, stream_slice: Any) -> Any:
        if self.sorted_ascending:
            # asked for sort=updated_at: an oversized page sorted so holds every record of the window
            # older than its last one (one response), so the window goes on from that record
            stamps = [epoch_seconds(i.get(self.cursor_field)) if isinstance(i, dict) else None for i in items]
            if stamps and None not in stamps and all(a <= b for a, b in zip(stamps, stamps[1:])) and stamps[-1] > lo:
                if hi is None:  # the open first request: go on in a window of a few pages at this page's density
                    read.width = max(int((stamps[-1] - stamps[0]) * self.sorted_window_pages), 2)
                    return self._window_from(read, stamps[-1], stream_slice)
                return self._token(stream_slice, stamps[-1], hi)
        top = int(time.time()) if hi is None else hi
        if top - lo <= 2:
            return self._fallback(read, lo, hi, items, next_cursor, stream_slice)
        for item in items:
            if isinstance(item, dict) and item.get("id") is not None:
                stamp = epoch_seconds(item.get(self.cursor_field))
                if stamp is not None:
                    read.ahead[item["id"]] = stamp
        new_hi = lo + (top - lo) // 2
        known = self._known_fill_end(read, lo)
        if known is not None and known < new_hi:
            new_hi = known
        read.width = new_hi - lo
        return self._token(stream_slice, lo, new_hi)

    # ---- a window of more than a page that cannot be split: cursor, re-read until two reads agree
    @staticmethod
    def _count_repeats(read: _Read, cursor: str) -> int:
        """How many times in a row the fallback has been sent ``cursor`` as the next one."""
        read.cursor_repeats = read.cursor_repeats + 1 if cursor == read.last_cursor else 1
        read.last_cursor = cursor
        return read.cursor_repeats

    def _fallback(
        self, read: _Read, lo: int, hi: Optional[int], items: List[Any], next_cursor: Optional[str], stream_slice: Any
    ) -> Any:
        if read.fallback_window != (lo, hi):
            read.fallback_window = (lo, hi)
            read.passes, read.current = [], set()
        read.current.update(i.get("id") for i in items if isinstance(i, dict) and i.get("id") is not None)
        if next_cursor is not None:
            requested = self._count_repeats(read, next_cursor)
            if requested > self.max_cursor_repeats:
                raise AirbyteTracedException(
                    message=(
                        f"Personio kept answering stream {self._stream_name} with a next link to the page just read "
                        f"(the same cursor {requested} times in a row), so the rest of the stream cannot be reached. "
                        "The sync stopped rather than loop forever or skip data; retry later or contact Personio support."
                    ),
                    failure_type=FailureType.system_error,
                )
            return self._token(stream_slice, lo, hi, next_cursor)
        read.passes.append(frozenset(read.current))
        read.current = set()
        agreed = len(read.passes) >= 2 and read.passes[-1] == read.passes[-2]
        if not agreed and len(read.passes) < self.max_rereads:
            return self._token(stream_slice, lo, hi)  # read the window again from its first page
        if not agreed and read.warned_until != lo:  # (a crowded boundary second is in two windows: warned once)
            read.warned_until = hi
            window = self._render(lo, hi)
            logger.warning(
                f"Stream {self._stream_name}: more than one page of records share the updated_at window "
                f"{window['lower']} .. {window['upper'] or 'now'} and {len(read.passes)} reads of it with Personio's "
                "cursor returned different records, so a record of that window that did not change may be missing "
                "from this sync (it is read again when it next changes, or by a full refresh)."
            )
        read.fallback_window = None
        read.passes = []
        if hi is None:
            return None
        read.width = max(int(read.width or 2), 2)
        return self._window_from(read, hi, stream_slice)
