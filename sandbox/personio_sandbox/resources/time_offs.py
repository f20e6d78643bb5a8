"""v1 time-offs (day unit), v1 absence-periods (hour unit) and time-off types (§3.8-3.10)."""
from __future__ import annotations

import datetime as _dt

from .. import data as D
from ..context import Ctx, ensure_indexes, memo, parse_date, parse_dt, parse_int, v1_bad
from ..data import DAY, iso_offset_nocolon, day_str
from ..errors import v1_error
from ..model import shapes_on, day_breakdown, num, time_off_type_of
from ..paging import page_number_list
from .employees import short_employee


def v1_time_off(c: D.Company, a: dict, allowed: frozenset | None = None, strict_booleans: bool = False) -> dict:
    t = time_off_type_of(c, a["type_id"])
    hs, he = bool(a["half_day_start"]), bool(a["half_day_end"])
    out = {"type": "TimeOffPeriod", "attributes": {
        "id": a["id"], "status": a["status"],
        "start_date": iso_offset_nocolon(a["start_day"] - 3600), "end_date": iso_offset_nocolon(a["end_day"] - 3600),
        "days_count": num(sum(v for _d, v in day_breakdown(a))),
        # the real API sends 0/1 here (issue 2), the official schema says boolean
        "half_day_start": hs if strict_booleans else int(hs), "half_day_end": he if strict_booleans else int(he),
        "time_off_type": {"type": "TimeOffType", "attributes": {"id": t["id"], "name": t["name"], "category": t["category"]}},
        "employee": short_employee(c, a["employee_id"], allowed),
        "created_by": a["created_by"],
        "certificate": {"status": "not-required" if t["category"] != "sick_leave" else "pending"},
        "created_at": iso_offset_nocolon(a["created_ts"]), "updated_at": iso_offset_nocolon(a["updated_ts"]),
    }}
    if shapes_on(c):  # §10.5: the UUID of the same absence in v2 (where in the payload is not documented)
        out["attributes"]["id_v2"] = a["uuid"]
    return out


def ms_z(ts: int) -> str:
    return _dt.datetime.fromtimestamp(ts, _dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.0Z")


def _hour_window(a: dict) -> tuple[int, int]:
    start = a["start_day"] + a["start_min"] * 60 - 3600
    return start, start + a["minutes"] * 60


def v1_absence_period(c: D.Company, a: dict, allowed: frozenset | None = None) -> dict:
    t = time_off_type_of(c, a["type_id"])
    s, e = _hour_window(a)
    return {"type": "AbsencePeriod", "attributes": {
        "id": a["uuid"], "measurement_unit": "hour", "effective_duration": a["minutes"],
        "employee": short_employee(c, a["employee_id"], allowed),
        "absence_type": {"type": "AbsenceType", "id": t["uuid"], "name": t["name"], "time_off_type_id": t["id"],
                         "attributes": {"id": t["uuid"], "name": t["name"], "time_off_type_id": t["id"]}},
        "certificate": {"status": "not-required"},
        "start": ms_z(s), "end": ms_z(e), "half_day_start": False, "half_day_end": False,
        "comment": a["comment"], "origin": a["origin"], "status": a["status"], "timezone": "Europe/Berlin",
        "created_by": c.person_order and c.person_order[0] or 1,
        "created_at": ms_z(a["created_ts"]), "updated_at": ms_z(a["updated_ts"]),
        "approved_at": ms_z(a["updated_ts"]) if a["status"] == "approved" else None,
        "breakdowns": [{"date": day_str(a["start_day"]), "effective_duration": a["minutes"]}],
    }}


def v1_time_off_type(t: dict, id_v2: bool = False) -> dict:
    out = {"type": "TimeOffType", "attributes": {"id": t["id"], "name": t["name"], "category": t["category"],
                                                 "unit": t["unit"], "approval_required": t["approval_required"]}}
    if id_v2:  # §10.5 shapes: the v2 absence type id
        out["attributes"]["id_v2"] = t["uuid"]
    return out


def h_v1_time_off_types(ctx: Ctx):
    limit = parse_int(ctx.get("limit"), "limit", v1_bad, 1, None, 200)
    offset = parse_int(ctx.get("offset"), "offset", v1_bad, 0, None, 0)
    items = [v1_time_off_type(t, shapes_on(ctx.company)) for t in ctx.company.time_off_types]
    return 200, {"success": True, "data": items[offset:offset + limit]}


def _absence_filter(ctx: Ctx, unit: str, updated_date_only: bool) -> list[dict]:
    c = ctx.company
    out = [a for a in c.absences.values() if a["unit"] == unit]
    sd, ed = ctx.get("start_date"), ctx.get("end_date")
    if sd:
        s = parse_date(sd, v1_bad)
        out = [a for a in out if a["end_day"] >= s]
    if ed:
        e = parse_date(ed, v1_bad)
        out = [a for a in out if a["start_day"] <= e]
    uf, ut = ctx.get("updated_from"), ctx.get("updated_to")
    if uf:
        f = parse_date(uf, v1_bad) if updated_date_only else parse_dt(uf, v1_bad)
        out = [a for a in out if a["updated_ts"] >= f]
    if ut:
        t = parse_date(ut, v1_bad) + DAY - 1 if updated_date_only else parse_dt(ut, v1_bad)
        if not updated_date_only and len(ut.strip()) == 10:
            t += DAY - 1
        out = [a for a in out if a["updated_ts"] <= t]
    emps = ctx.getlist("employees[]") + ctx.getlist("employees")
    if emps:
        ids = set()
        for x in emps:
            ids.add(parse_int(x, "employees", v1_bad))
        out = [a for a in out if a["employee_id"] in ids]
    return out


def h_v1_time_offs(ctx: Ctx):
    return page_number_list(ctx, memo(ctx, lambda: _absence_filter(ctx, "day", True)), _time_off_of)


def _time_off_of(ctx: Ctx, a: dict) -> dict:
    return v1_time_off(ctx.company, a, ctx.cred.attributes, ctx.strict_booleans)


def _absence_period_of(ctx: Ctx, a: dict) -> dict:
    return v1_absence_period(ctx.company, a, ctx.cred.attributes)


def h_v1_time_off(ctx: Ctx):
    aid = parse_int(ctx.match["id"], "id", lambda m: v1_error(404, "Time-off period not found"))
    a = ctx.company.absences.get(aid)
    if a is None or a["unit"] != "day":
        raise v1_error(404, "Time-off period not found")
    return 200, {"success": True, "data": _time_off_of(ctx, a)}


def h_v1_absence_periods(ctx: Ctx):
    return page_number_list(ctx, memo(ctx, lambda: _v1_absence_periods_items(ctx)), _absence_period_of)


def _v1_absence_periods_items(ctx: Ctx):
    items = _absence_filter(ctx, "hour", False)
    types = ctx.getlist("absence_types[]") + ctx.getlist("absence_types")
    if types:
        known = {t["uuid"]: t for t in ctx.company.time_off_types}
        for x in types:
            if x not in known:
                raise v1_error(404, "models.absence-types.not-found")
        tids = {known[x]["id"] for x in types}
        items = [a for a in items if a["type_id"] in tids]
    ids = set(ctx.getlist("absence_periods[]") + ctx.getlist("absence_periods"))
    if ids:
        items = [a for a in items if a["uuid"] in ids]
    return items


def h_v1_absence_period(ctx: Ctx):
    ensure_indexes(ctx.company)
    a = ctx.company._abs_uuid.get(ctx.match["id"])
    if a is None or a["unit"] != "hour":
        raise v1_error(404, "Absence period not found")
    return 200, {"success": True, "data": _absence_period_of(ctx, a)}
