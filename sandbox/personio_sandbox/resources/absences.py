"""v2 absence types, absence periods and their breakdowns."""
from __future__ import annotations

import datetime as _dt

from .. import data as D
from ..context import Ctx, ensure_indexes, memo, parse_dt, v2_bad
from ..data import DAY, iso_z, day_str
from ..errors import v2_error
from ..filters import ts_window
from ..model import shapes_on, day_breakdown, num, time_off_type_of
from ..paging import v2_limit, v2_list


def v2_absence_type(t: dict) -> dict:
    return {"id": t["uuid"], "name": t["name"], "category": t["v2_category"], "unit": t["unit"].upper()}


def local_time(ts: int) -> str:
    return _dt.datetime.fromtimestamp(ts, _dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")


def v2_absence_window(a: dict, exclusive_end: bool = False) -> tuple[str, str]:
    """Local start and end. Day-unit absences end at the start of their last day; with the §10.5 shapes
    (``exclusive_end``) at local midnight starting the day *after* the last absent day, as live data shows."""
    if a["unit"] == "hour":
        s = a["start_day"] + a["start_min"] * 60
        return local_time(s), local_time(s + a["minutes"] * 60)
    return local_time(a["start_day"]), local_time(a["end_day"] + (DAY if exclusive_end else 0))


def v2_absence_period(c: D.Company, a: dict) -> dict:
    t = time_off_type_of(c, a["type_id"])
    s, e = v2_absence_window(a, shapes_on(c))
    sf = {"date_time": s}
    ea = {"date_time": e}
    if a["unit"] == "day":
        sf["type"] = "SECOND_HALF" if a["half_day_start"] else "FIRST_HALF"
        ea["type"] = "FIRST_HALF" if a["half_day_end"] else "SECOND_HALF"
    return {"id": a["uuid"], "person": {"id": str(a["employee_id"])}, "absence_type": {"id": t["uuid"]},
            "starts_from": sf, "ends_at": ea, "timezone_id": "Europe/Berlin", "comment": a["comment"],
            "approval": {"status": a["status"].upper()},
            "created_at": iso_z(a["created_ts"]), "updated_at": iso_z(a["updated_ts"])}


def v2_breakdowns(a: dict) -> list[dict]:
    if a["unit"] == "hour":
        return [{"date": day_str(a["start_day"]), "effective_duration": {"unit": "HOUR", "value": num(a["minutes"] / 60)}}]
    return [{"date": day_str(d), "effective_duration": {"unit": "DAY", "value": num(v)}} for d, v in day_breakdown(a)]


def h_v2_absence_types(ctx: Ctx):
    return v2_list(ctx, ctx.company.time_off_types, v2_absence_type, 100, 100)


def h_v2_absence_type(ctx: Ctx):
    t = next((t for t in ctx.company.time_off_types if t["uuid"] == ctx.match["id"]), None)
    if t is None:
        raise v2_error(404, "The requested absence type was not found")
    return 200, v2_absence_type(t)


def h_v2_absence_periods(ctx: Ctx):
    c = ctx.company
    v2_limit(ctx, 100, 100)  # validate before the (cached) selection
    items = memo(ctx, lambda: _v2_absence_items(ctx))
    return v2_list(ctx, items, lambda a: v2_absence_period(c, a), 100, 100)


def _v2_absence_items(ctx: Ctx):
    c = ctx.company
    items = ts_window(ctx, "updated_at", ("gte", "lte"), "absence periods by uuid",
                      lambda: sorted(c.absences.values(), key=lambda a: a["uuid"]), lambda a: a["updated_ts"])
    ids = ctx.getlist("id")
    if ids:
        items = [a for a in items if a["uuid"] in ids]
    pids = ctx.getlist("person.id")
    if pids:
        items = [a for a in items if str(a["employee_id"]) in pids]
    tids = ctx.getlist("absence_type.id")
    if tids:
        uu = {t["id"] for t in c.time_off_types if t["uuid"] in tids}
        items = [a for a in items if a["type_id"] in uu]
    for fld, idx in (("starts_from.date_time", 1), ("ends_at.date_time", 0)):
        # date filters match overlapping periods
        g, l = ctx.get(fld + ".gte"), ctx.get(fld + ".lte")
        if g:
            t = parse_dt(g, v2_bad)
            items = [a for a in items if a["end_day"] + DAY > t]  # the period's last day ends after t
        if l:
            t = parse_dt(l, v2_bad)
            items = [a for a in items if a["start_day"] <= t]
    return items


def _absence(ctx: Ctx) -> dict:
    ensure_indexes(ctx.company)
    a = ctx.company._abs_uuid.get(ctx.match["id"])
    if a is None or ctx.company.absences.get(a["id"]) is not a:
        raise v2_error(404, "The requested absence period was not found")
    return a


def h_v2_absence_period(ctx: Ctx):
    return 200, v2_absence_period(ctx.company, _absence(ctx))


def h_v2_breakdowns(ctx: Ctx):
    a = _absence(ctx)
    return v2_list(ctx, v2_breakdowns(a), lambda x: x, 28, 28)
