"""How many requests a read must make, from a list's size and the page size Personio allows.

Independent statements of Personio's paging, for request-count expectations (the record counts come from the
sandbox's data model, the page sizes from Personio's documented maxima, or the sandbox's where Personio states
none; never from the connector's manifest):

* a plain list (v2 cursors): ``ceil(n / size)`` pages, and one page for an empty list;
* a v1 list read with pages overlapping by one record (docs/personio.md, "How v1 paging survives changes"):
  record offsets (employees, time-off types) add ``size - 1`` new records per page after the first;
* a v1 list paged by page number (time-offs, custom report rows): page ``p`` of limit ``l`` covers positions
  ``[(p - 1) * l, p * l)`` for some ``l <= size``; each page must start at or before the last position already
  read, so the fewest requests are found exhaustively over every limit.
"""

from __future__ import annotations

import math


def pages(n: int, size: int) -> int:
    """Pages of a cursor-paged list of ``n`` records, at most ``size`` per page (an empty list: one page)."""
    return max(1, math.ceil(n / size))


def record_offset_pages(n: int, size: int) -> int:
    """The first page holds ``size`` records, every further one ``size - 1`` new ones."""
    return 1 if n <= size else 1 + math.ceil((n - size) / (size - 1))


def page_number_pages(n: int, size: int) -> int:
    """Fewest ``(page, limit <= size)`` requests covering ``n`` positions, each starting at or before the last
    position covered (exhaustive over every limit reachable at each step)."""
    frontier, requests = {min(n, size)}, 1
    while max(frontier) < n:
        frontier = {((end - 1) // limit + 1) * limit for end in frontier for limit in range(1, size + 1)}
        requests += 1
    return requests
