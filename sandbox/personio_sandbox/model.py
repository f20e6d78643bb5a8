"""Facts derived from the data model that several resources share (lookups, day breakdowns, months)."""
from __future__ import annotations

import datetime as _dt

from . import data as D
from .data import DAY


def org_unit(c: D.Company, oid):
    for u in c.org_units:
        if u["id"] == oid:
            return u
    return None


def time_off_type_of(c: D.Company, tid: int) -> dict:
    for t in c.time_off_types:
        if t["id"] == tid:
            return t
    raise KeyError(tid)


def workdays(a: dict):
    d = a["start_day"]
    while d <= a["end_day"]:
        if _dt.datetime.fromtimestamp(d, _dt.timezone.utc).weekday() < 5:
            yield d
        d += DAY


def day_breakdown(a: dict) -> list[tuple[int, float]]:
    days = list(workdays(a))
    out = []
    for i, d in enumerate(days):
        v = 1.0
        if i == 0 and a["half_day_start"]:
            v = 0.5
        if i == len(days) - 1 and a["half_day_end"] and len(days) > 1:
            v = 0.5
        out.append((d, v))
    return out


def num(x: float):
    return int(x) if float(x).is_integer() else x


def month_bounds(ts: int) -> tuple[int, int]:
    d = _dt.datetime.fromtimestamp(ts, _dt.timezone.utc)
    start = _dt.datetime(d.year, d.month, 1, tzinfo=_dt.timezone.utc)
    nm = _dt.datetime(d.year + (d.month == 12), d.month % 12 + 1, 1, tzinfo=_dt.timezone.utc)
    return int(start.timestamp()), int(nm.timestamp()) - DAY


def shapes_on(c) -> bool:
    """The tenant serves the §10.5 shapes (``--tenant shapes``)."""
    return bool(c.options.get("shapes"))


def employee_currency(c, e: dict) -> str:
    """The currency of an employee's salary: EUR; with the §10.5 shapes a quarter of the company is paid in
    GBP (captured tenant responses carry both; which employees is the sandbox's choice)."""
    if shapes_on(c) and D._mix(c.seed, e["id"], 0xC0FFEE) % 4 == 0:
        return "GBP"
    return "EUR"


CURRENCY_SYMBOL = {"EUR": "€", "GBP": "£"}
