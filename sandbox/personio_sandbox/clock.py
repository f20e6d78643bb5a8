"""The sandbox clock: when a change happens, and what "today" is.

Personio stamps a change with the time it happens, so a record changed during a sync carries a
timestamp between the sync's start and its end, not one "past every existing record". Two modes:

* ``real`` (default, ``--clock real``): a change is stamped with the UTC wall clock (whole seconds, as
  Personio's timestamps are). Several changes in the same second share that second. Generated history
  stays before ``BASE_EPOCH`` (2026-11-01), so as long as the wall clock is after it every change is newer
  than every generated record; a wall clock before it is raised to ``BASE_EPOCH + 1``.
* ``base`` (``--clock base``): the synthetic clock of earlier versions: it starts at ``BASE_EPOCH``, a
  mutation batch first jumps it 60 s past its current value and every change then ticks it by one second.
  Reproducible to the second, but it never agrees with the wall clock a connector uses.

"Today" (balances' taken/upcoming split, the default compensation month, the month a salary change
applies from) follows the same clock.
"""
from __future__ import annotations

import datetime as _dt
import time


MODES = ("real", "base")
BASE_EPOCH = int(_dt.datetime(2026, 11, 1, tzinfo=_dt.timezone.utc).timestamp())
"""Every generated timestamp is before this instant (2026-11-01T00:00:00Z)."""


def _base_epoch() -> int:
    return BASE_EPOCH


def now(c) -> int:
    if c.clock_mode == "real":
        return max(int(time.time()), _base_epoch() + 1, c.clock)
    return c.clock


def tick(c) -> int:
    """Timestamp of a change happening now; never earlier than a previous change."""
    if c.clock_mode == "real":
        ts = now(c)
        c.clock = ts
        return ts
    c.clock += 1
    return c.clock


def begin_batch(c) -> None:
    """Called before a mutation batch: the base clock jumps past every existing timestamp."""
    if c.clock_mode == "base":
        c.clock = max(c.clock, _base_epoch()) + 60
