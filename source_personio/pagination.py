"""Pagination: Personio's v1 offset-paged lists read without loss while they change, and its v2 cursors.

:class:`PersonioCursorPagination` follows v2 cursors (the ``next`` link's ``cursor`` value only; see its
docstring). The rest of this module is the v1 paging, which loses nothing while the list changes under it.

Personio quirk: v1 lists are paged by position (``offset`` = a record offset on employees and
time-off-types, a page number from 1 on time-offs, ``page`` on custom reports), re-evaluated on every
request, in an order Personio does not document. A record deleted before the position being read
shifts every later record one place left, so plain paging skips one record per delete; an insert
shifts them right, so one record is served twice. ``total_elements`` cannot tell (a delete and an
insert cancel out). Only one thing is assumed: records that exist at two moments keep their order
relative to each other (an unchanged list keeps its order; an insert or delete moves nobody else).

How a read stays complete (docs/personio.md, "How v1 paging survives changes"):

* **Overlap.** Every page after the first is asked for so that it starts at the last record of the
  page it follows (record offsets: ``offset = previous offset + records - 1``; page numbers: a
  ``(page, limit)`` pair, ``limit`` within ``[min_page_size, page_size]``, whose window starts at
  or just before that record, see :meth:`OverlappingPageNumberPagination.window_containing`).
* **Anchoring.** A page joins the part of the list already read only if it holds a record already
  read on a joined page (or starts at position 0). Every record still there before that anchor was
  then already read, and the page is contiguous after it, so nothing between is missing. Inserts
  keep the anchor on the page (they only repeat records, dropped by
  :class:`source_personio.record_filters.EmitEachRecordOnce`).
* **Stepping back.** A page without an anchor (deletes shifted the list left, or inserts filled the
  window) is kept aside, and the window just before it is read (overlapping it by one position),
  again and again, until a page anchors; the page at position 0 always does. A kept-aside page that
  then holds an anchored record joins too (usually the page that failed, so a burst of deletes costs
  one extra request).
* **The end** is a joined page that is short (fewer records than asked for) or that ends exactly at
  ``total_elements`` while the total is the one the previous response reported. An empty page
  beyond position 0 is not an end: the list shrank and the records that moved left are read first.
* **Bounded.** Unjoined pages are limited to ``max_rereads`` plus one per page that reached further
  into the list. Past that the rest is read without the check, after one warning naming the stream
  and the positions that could not be confirmed (a list changing faster than it can be read).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import InitVar, dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Tuple
from urllib.parse import parse_qs, urlsplit

import requests

from airbyte_cdk.sources.declarative.requesters.paginators.strategies.pagination_strategy import (
    PaginationStrategy,
)
from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.types import Config, Record, StreamSlice
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_personio.compact_keys import CompactKeys
from source_personio.extractors import response_json
from source_personio.slice_scope import PerSliceRead

logger = logging.getLogger("airbyte")


def v1_record_id(item: Any) -> Any:
    """The id of a raw v1 list item: ``attributes.id.value`` (employees) or ``attributes.id``."""
    if not isinstance(item, dict):
        return None
    attributes = item.get("attributes") if isinstance(item.get("attributes"), dict) else item
    value = attributes.get("id")
    return value.get("value") if isinstance(value, dict) else value


def total_elements(body: Any) -> Optional[int]:
    """``metadata.total_elements`` of a v1 list page, or None when absent or not a number."""
    metadata = body.get("metadata") if isinstance(body, dict) else None
    value = metadata.get("total_elements") if isinstance(metadata, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


@dataclass
class _Window:
    """One page as served: its first position, the size asked for, its records' ids."""

    start: int
    limit: int
    ids: List[Any]
    total: Optional[int]
    steady: bool  # the total is the one the previous response of this read reported

    @property
    def end(self) -> int:
        return self.start + len(self.ids)

    def ends_the_list(self) -> bool:
        if len(self.ids) < self.limit:
            return True
        return self.total is not None and self.steady and self.end == self.total


@dataclass
class _Read:
    """What one read of one slice has learnt so far."""

    # ids of the records on joined pages; 8 B per integer id (a set of 50,000 ids held ~3.5 MB per read)
    joined: CompactKeys = field(default_factory=CompactKeys)
    aside: List[_Window] = field(default_factory=list)  # pages that did not join (yet)
    responses: int = 0
    last_total: Optional[int] = None
    rereads: int = 0
    progress_pages: int = 0
    furthest: int = 0  # the furthest end position a joined page reached
    unchecked: bool = False  # re-reads exhausted: the rest is read without the check

    def holds_joined(self, ids: List[Any]) -> bool:
        return any(i is not None and i in self.joined for i in ids)

    def join(self, window: _Window) -> List[_Window]:
        """Join ``window``, then every page kept aside that now holds a joined record."""
        joined = [window]
        self.joined.update(i for i in window.ids if i is not None)
        adopted = True
        while adopted:
            adopted = False
            for other in list(self.aside):
                if self.holds_joined(other.ids):
                    self.aside.remove(other)
                    self.joined.update(i for i in other.ids if i is not None)
                    joined.append(other)
                    adopted = True
        return joined


@dataclass
class _OverlappingV1Pagination(PaginationStrategy):
    """The algorithm of the module docstring; subclasses say how a position becomes a request."""

    config: Config
    parameters: InitVar[Mapping[str, Any]]
    page_size: int = 100
    max_rereads: int = 10

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        self.page_size = int(self.page_size)
        self.max_rereads = int(self.max_rereads)
        if self.page_size < 2:
            raise ValueError("page_size must be at least 2: consecutive pages overlap by one record")
        self._stream_name = str((parameters or {}).get("name") or "a v1 stream")
        self._reads: PerSliceRead[_Read] = PerSliceRead(_Read)

    # ---- what subclasses define
    def window_of(self, token: Any, page_size_override: Optional[int]) -> Tuple[int, int]:
        """(first position, size asked for) of the request made with ``token``."""
        raise NotImplementedError

    def window_containing(self, position: int, reach: str) -> Any:
        """The token of a request whose window holds ``position`` and reaches as far as possible
        after it (``reach="forward"``) or before it (``reach="back"``)."""
        raise NotImplementedError

    def items_of(self, body: Any) -> Optional[List[Any]]:
        items = body.get("data") if isinstance(body, dict) else None
        return items if isinstance(items, list) else None

    def id_of(self, item: Any) -> Any:
        return v1_record_id(item)

    # ---- PaginationStrategy
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
        try:
            body = response_json(response)
        except ValueError:
            return None
        items = self.items_of(body)
        if items is None:
            logger.warning(
                f"Stream {self._stream_name}: Personio answered a page without a list of records; the read of this "
                "list ends there, so records after it may be missing from this sync."
            )
            return None
        token = self.initial_token if last_page_token_value is None else last_page_token_value
        start, limit = self.window_of(token, page_size_override)
        read = self._reads.get(stream_slice)
        total = total_elements(body)
        window = _Window(start, limit, [self.id_of(i) for i in items], total, read.responses == 0 or read.last_total == total)
        read.responses += 1
        read.last_total = total

        if start == 0 or read.unchecked or read.holds_joined(window.ids):
            return self._after_joined(read, read.join(window), stream_slice)

        read.aside.append(window)
        read.rereads += 1
        if read.rereads > self.max_rereads + read.progress_pages:
            return self._give_up_checking(read, window, stream_slice)
        # step back: the window just before this one (overlapping it by one position); an empty page
        # beyond the end of a shrunken list steps back from the list's current end
        position = window.start
        if not window.ids and total is not None and total <= window.start:
            position = max(total - 1, 0)
        return self.window_containing(position, "back")

    def _after_joined(self, read: _Read, joined: List[_Window], stream_slice: Optional[StreamSlice]) -> Optional[Any]:
        if any(w.ends_the_list() for w in joined):
            self._reads.forget(stream_slice)
            return None
        frontier = max(joined, key=lambda w: w.end)
        if frontier.end > read.furthest:
            read.furthest = frontier.end
            read.progress_pages += 1
        return self.window_containing(frontier.end - 1, "forward")

    def _give_up_checking(self, read: _Read, window: _Window, stream_slice: Optional[StreamSlice]) -> Optional[Any]:
        read.unchecked = True
        logger.warning(
            f"Stream {self._stream_name}: Personio's list kept changing while it was read: {read.rereads} pages did "
            f"not join the records read before them (the last at position {window.start}), so records that existed "
            f"throughout this sync between positions {min(window.start, read.furthest)} and "
            f"{max(window.end, read.furthest)} may be missing from it. The rest of the list is read without this check; "
            "the next sync reads the whole list again."
        )
        if window.ends_the_list():
            self._reads.forget(stream_slice)
            return None
        furthest = max([read.furthest, window.end] + [w.end for w in read.aside])
        read.aside.clear()
        read.furthest = furthest
        return self.window_containing(max(furthest - 1, 0), "forward")


@dataclass
class OverlappingRecordOffsetPagination(_OverlappingV1Pagination):
    """``offset`` = record offset from 0, fixed ``limit`` = ``page_size`` (employees: Personio caps
    the page at 100; time-off-types). Each page after the first starts at the previous page's last
    record: one record per page is read twice (1 % of the requests at 100 per page) so that a page
    can prove it joins the one before; see the module docstring."""

    # Tokens are the offset as a string: a step back to offset 0 must stay a truthy token (the CDK
    # ends paging on a falsy one).
    @property
    def initial_token(self) -> Optional[Any]:
        return "0"

    def window_of(self, token: Any, page_size_override: Optional[int]) -> Tuple[int, int]:
        return int(token or 0), int(page_size_override or self.page_size)

    def window_containing(self, position: int, reach: str) -> Any:
        if reach == "back":
            return str(max(position - (self.page_size - 1), 0))
        return str(max(position, 0))


@dataclass
class OverlappingPageNumberPagination(_OverlappingV1Pagination):
    """A page number from 1 and a ``limit`` chosen per request (time-offs: ``offset`` is the page
    number; custom reports: ``page``). With one fixed limit, pages cannot overlap, so each request
    picks a limit in ``[min_page_size, page_size]`` (default ``min_page_size`` = 3/4 of it) whose
    page starts at, or as close as possible before, the previous page's last record. The token is
    ``{"page": n, "limit": l}``; the manifest sends both (``next_page_token.next_page_token.page`` /
    ``.limit``), as Personio computes the window as ``[(page - 1) * limit, page * limit)``."""

    min_page_size: Optional[int] = None

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        super().__post_init__(parameters)
        low = int(self.min_page_size) if self.min_page_size else (self.page_size * 3) // 4
        self.min_page_size = max(2, min(low, self.page_size))

    @property
    def initial_token(self) -> Optional[Any]:
        return {"page": 1, "limit": self.page_size}

    def window_of(self, token: Any, page_size_override: Optional[int]) -> Tuple[int, int]:
        token = token if isinstance(token, Mapping) else {"page": token or 1}
        limit = int(token.get("limit") or self.page_size)
        return (max(int(token.get("page") or 1), 1) - 1) * limit, limit

    def window_containing(self, position: int, reach: str) -> Any:
        position = max(position, 0)
        best: Optional[Tuple[int, int, int]] = None  # (score, limit, page index)
        for limit in range(self.page_size, int(self.min_page_size) - 1, -1):
            index = position // limit
            score = (index + 1) * limit if reach == "forward" else -index * limit
            if best is None or score > best[0]:
                best = (score, limit, index)
        assert best is not None
        return {"page": best[2] + 1, "limit": best[1]}


@dataclass
class CustomReportPagination(OverlappingPageNumberPagination):
    """Page-number paging of ``GET /v1/company/custom-reports/reports/{id}`` (``?page=N&limit=L``).

    Personio quirk: ``limit`` counts *employees* per page while a historical report returns several
    rows per employee, so the report's ``items`` (one per employee, keyed by ``employee_id``) are
    what is paged and anchored, and ``metadata.total_elements`` counts those items."""

    page_size: int = 1000

    def items_of(self, body: Any) -> Optional[List[Any]]:
        if not isinstance(body, dict):
            return None
        reports = body.get("data")
        if not isinstance(reports, list):
            return None
        return [
            item
            for report in reports
            if isinstance(report, dict)
            for item in ((report.get("attributes") or {}).get("items") or [])
        ]

    def id_of(self, item: Any) -> Any:
        return item.get("employee_id") if isinstance(item, dict) else None


# -- v2 cursors ----------------------------------------------------------------------------------


def next_cursor(body: Any) -> Optional[str]:
    """The ``cursor`` query value of a v2 page's ``_meta.links.next`` (``{href}`` on v2 lists, a plain URL string on
    the Report API v2); None on the last page or when the body has no such link."""
    meta = body.get("_meta") if isinstance(body, dict) else None
    links = meta.get("links") if isinstance(meta, dict) else None
    link = links.get("next") if isinstance(links, dict) else None
    href = link.get("href") if isinstance(link, Mapping) else link
    if not href or not isinstance(href, str):
        return None
    return (parse_qs(urlsplit(href).query).get("cursor") or [None])[0]


@dataclass
class PersonioCursorPagination(PaginationStrategy):
    """Follow Personio v2 cursors from ``_meta.links.next`` (``{href}`` on v2 lists, a plain URL string on the
    Report API v2), by the link's ``cursor`` query value only.

    Personio quirks: the ``next`` link was relative on attendance periods until 2025-09-15 and is absolute
    elsewhere; some list examples point at the wrong path; the Report API rejects a cursor sent with any
    parameter but ``limit`` (HTTP 400); and a ``next`` link pointing at the page just read has been reported
    (infinite loop). So path and host of the link are ignored (the requester re-sends what it sends), pagination
    stops when the cursor is absent or the response is not a success, and a ``next`` cursor equal to the one
    just requested is re-requested up to ``max_cursor_repeats`` times (a transient glitch then loses nothing;
    the Report API v2 streams set 0). If it keeps repeating the stream fails with a clear error instead of
    looping forever or silently stopping with the rest of the data unread.
    """

    config: Config
    parameters: InitVar[Mapping[str, Any]]
    page_size: Optional[int] = None
    max_cursor_repeats: int = 2

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        self._stream_name = str((parameters or {}).get("name") or "a v2 stream")
        self._repeats: Dict[str, int] = {}
        self._repeats_lock = threading.Lock()

    @property
    def initial_token(self) -> Optional[Any]:
        return None

    def next_page_token(
        self,
        response: requests.Response,
        last_page_size: int,
        last_record: Optional[Record],
        last_page_token_value: Optional[Any],
        page_size_override: Optional[int] = None,
        stream_slice: Optional[StreamSlice] = None,
    ) -> Optional[Any]:
        if not response.ok:
            return None
        try:
            body = response_json(response)
        except ValueError:
            return None
        cursor = next_cursor(body)
        if not cursor:
            return None
        if cursor == last_page_token_value:
            with self._repeats_lock:
                repeats = self._repeats[cursor] = self._repeats.get(cursor, 0) + 1
            if repeats > int(self.max_cursor_repeats):
                raise AirbyteTracedException(
                    message=(
                        f"Personio kept answering stream {self._stream_name} with a next link to the page just read "
                        f"(the same cursor {repeats} times in a row), so the rest of the stream cannot be reached. "
                        "The sync stopped rather than loop forever or skip data; retry later or contact Personio support."
                    ),
                    failure_type=FailureType.system_error,
                )
        return cursor

    def get_page_size(self) -> Optional[int]:
        return int(self.page_size) if self.page_size else None
