"""A set of record keys that costs 8 bytes per key instead of a Python tuple per key.

CDK default replaced: nothing; this is storage for :class:`source_personio.record_filters.EmitEachRecordOnce`
and the v1 paginators' ids of joined pages (:mod:`source_personio.pagination`), which must remember every key a
read has emitted (v1 offset pages repeat records, so each record is emitted once
per read). As a ``set`` of tuples that costs ~106 B per key plus the int and date string each tuple keeps alive:
at 50,000 employees the v1 report reads held over 500,000 such keys (about 95 MB, BENCHMARKS.md).

Keys are stored exactly, never hashed: a key whose parts are non-negative integers below 2**40 and dates
(``YYYY-MM-DD``) or None is packed into one 64-bit integer (40 bits per integer, 17 per date or None) under the
tuple of its other parts (e.g. the report id, the same for a whole read), and packed keys are kept in sorted
``array('Q')`` runs merged like a log-structured tree. Any other key goes to a plain ``set``.
"""

from __future__ import annotations

import datetime
import heapq
from array import array
from bisect import bisect_left
from typing import Any, Dict, List, Optional, Set, Tuple

_INT_BITS = 40
_DATE_BITS = 17  # days since 1900-01-01, plus 0 for None
_DAY0 = datetime.date(1900, 1, 1).toordinal()
_BUFFER = 4096


def _date_code(value: Any) -> Optional[int]:
    if value is None:
        return 0
    if isinstance(value, str) and len(value) == 10 and value[4] == "-" and value[7] == "-":
        try:
            days = datetime.date.fromisoformat(value).toordinal() - _DAY0 + 1
        except ValueError:
            return None
        return days if 0 < days < (1 << _DATE_BITS) else None
    return None


def _pack(key: Any) -> Optional[Tuple[Tuple[Any, ...], int]]:
    """(the parts that are not packed, the packed integer), or None when the key cannot be packed exactly."""
    parts = key if isinstance(key, tuple) else (key,)
    rest: List[Any] = []
    code, bits = 0, 0
    for part in parts:
        if isinstance(part, int) and not isinstance(part, bool) and 0 <= part < (1 << _INT_BITS):
            code, bits = (code << _INT_BITS) | part, bits + _INT_BITS
            rest.append(int)  # the part's kind, so (1, None) and (1, 0) never share a code
            continue
        date = _date_code(part)
        if date is not None:
            code, bits = (code << _DATE_BITS) | date, bits + _DATE_BITS
            rest.append(datetime.date)
            continue
        if not isinstance(part, str):  # only text (a report id) groups keys; anything else: a plain set
            return None
        rest.append(part)
    if bits == 0 or bits > 64:
        return None
    return tuple(rest), code


class _Runs:
    """Sorted runs of 64-bit codes plus a small buffer; membership by bisection."""

    __slots__ = ("runs", "buffer")

    def __init__(self) -> None:
        self.runs: List[array] = []
        self.buffer: Set[int] = set()

    def __contains__(self, code: int) -> bool:
        if code in self.buffer:
            return True
        for run in self.runs:
            i = bisect_left(run, code)
            if i < len(run) and run[i] == code:
                return True
        return False

    def add(self, code: int) -> None:
        self.buffer.add(code)
        if len(self.buffer) >= _BUFFER:
            run = array("Q", sorted(self.buffer))
            self.buffer = set()
            while self.runs and len(self.runs[-1]) <= len(run):
                run = array("Q", heapq.merge(self.runs.pop(), run))
            self.runs.append(run)

    def __len__(self) -> int:
        return len(self.buffer) + sum(len(r) for r in self.runs)


class CompactKeys:
    """``add(key)`` returns True when the key is new (and remembers it), False when it was added before;
    ``key in keys`` asks without adding."""

    def __init__(self) -> None:
        self._packed: Dict[Tuple[Any, ...], _Runs] = {}
        self._other: Set[Any] = set()

    def __contains__(self, key: Any) -> bool:
        packed = _pack(key)
        if packed is None:
            return key in self._other
        runs = self._packed.get(packed[0])
        return runs is not None and packed[1] in runs

    def update(self, keys: Any) -> None:
        for key in keys:
            self.add(key)

    def add(self, key: Any) -> bool:
        packed = _pack(key)
        if packed is None:
            if key in self._other:
                return False
            self._other.add(key)
            return True
        group, code = packed
        runs = self._packed.get(group)
        if runs is None:
            runs = self._packed[group] = _Runs()
        if code in runs:
            return False
        runs.add(code)
        return True

    def __len__(self) -> int:
        return len(self._other) + sum(len(r) for r in self._packed.values())
