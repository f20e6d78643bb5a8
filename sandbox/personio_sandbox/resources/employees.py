"""v1 employees (+ by id), employee attributes and absence balances (§3.1-3.4)."""
from __future__ import annotations

import math

from .. import data as D
from ..context import Ctx, memo, parse_dt, parse_int, per_version, v1_bad
from ..data import iso_offset, day_str
from ..errors import v1_error
from ..model import employee_currency, day_breakdown, num, org_unit
from ..paging import v1_list_envelope


_ATTR_META = {k: (label, typ) for k, label, typ in D.STANDARD_ATTRS}
_ATTR_META.update({k: (label, typ) for k, label, typ, _u, _o in D.DYNAMIC})
_UNIVERSAL = {k: k for k, _l, _t in D.STANDARD_ATTRS}
_UNIVERSAL.update({k: u for k, _l, _t, u, _o in D.DYNAMIC})


def _a(key: str, value, **extra) -> dict:
    label, typ = _ATTR_META[key]
    d = {"label": label, "value": value, "type": typ, "universal_id": _UNIVERSAL[key]}
    d.update(extra)
    return d


def _v1_date(ts_or_str) -> str | None:
    if not ts_or_str:
        return None
    s = ts_or_str if isinstance(ts_or_str, str) else day_str(ts_or_str)
    return s[:10] + "T00:00:00+01:00"


def short_employee(c: D.Company, eid: int, allowed: frozenset | None = None) -> dict:
    """The short Employee object embedded in time-offs, absence periods and ``supervisor``; a credential's
    attribute whitelist applies to it too (other attributes are silently left out, ``id`` always stays)."""
    e = c.employees.get(eid)
    if e is None:
        return {"type": "Employee", "attributes": {"id": _a("id", eid)}}
    attrs = {"id": {"label": "id", "value": e["id"], "type": "integer", "universal_id": "id"},
             "first_name": _a("first_name", e["first_name"]), "last_name": _a("last_name", e["last_name"]),
             "email": _a("email", e["email"])}
    if allowed is not None:
        attrs = {k: v for k, v in attrs.items() if k == "id" or k in allowed}
    return {"type": "Employee", "attributes": attrs}


def v1_employee_full(c: D.Company, e: dict) -> dict:
    cached = e.get("rendered_v1")
    if cached is not None:
        return cached
    sup = e["supervisor_id"]
    le = next(x for x in c.legal_entities if x["id"] == e["legal_entity_id"])
    wp = next(x for x in c.workplaces if x["id"] == e["workplace_id"])
    dept = org_unit(c, e["department_id"])
    team = org_unit(c, e["team_id"]) if e["team_id"] else None
    ccs = {x["id"]: x for x in c.cost_centers}
    term = e["term_ts"]
    attrs = {
        "id": _a("id", e["id"]), "first_name": _a("first_name", e["first_name"]),
        "last_name": _a("last_name", e["last_name"]), "preferred_name": _a("preferred_name", e["preferred_name"]),
        "email": _a("email", e["email"]), "gender": _a("gender", e["gender"]), "status": _a("status", e["status"]),
        "position": _a("position", e["position"]),
        "supervisor": _a("supervisor", short_employee(c, sup)) if sup else None,
        "employment_type": _a("employment_type", e["employment_type"]),
        "weekly_working_hours": _a("weekly_working_hours", str(e["weekly_working_hours"])),
        "hire_date": _a("hire_date", _v1_date(e["hire_ts"])),
        "contract_end_date": _a("contract_end_date", _v1_date(e["contract_end_date"])),
        "termination_date": _a("termination_date", _v1_date(term)),
        "termination_type": _a("termination_type", e["termination_type"]),
        "termination_reason": _a("termination_reason", e["termination_reason"]),
        "probation_period_end": _a("probation_period_end", _v1_date(e["probation_end_ts"])),
        "created_at": _a("created_at", iso_offset(e["created_ts"])),
        "last_modified_at": _a("last_modified_at", iso_offset(e["updated_ts"])),
        "subcompany": _a("subcompany", {"type": "Subcompany", "attributes": {"id": int(le["id"]), "name": le["name"]}}),
        "office": _a("office", {"type": "Office", "attributes": {"id": int(wp["id"]), "name": wp["name"]}}),
        "department": _a("department", {"type": "Department", "attributes": {"id": int(dept["id"]), "name": dept["name"]}}),
        "team": _a("team", {"type": "Team", "attributes": {"id": int(team["id"]), "name": team["name"]}} if team else None),
        "cost_centers": _a("cost_centers", [{"type": "CostCenter", "attributes": {
            "id": int(cid), "name": ccs[cid]["name"], "percentage": pct}} for cid, pct in e["cost_centers"]]),
        "holiday_calendar": _a("holiday_calendar", {"type": "HolidayCalendar", "attributes": dict(e["holiday_calendar"])}),
        "absence_entitlement": _a("absence_entitlement", [
            {"type": "TimeOffType", "attributes": {"id": t["id"], "name": t["name"], "category": t["category"],
                                                   "entitlement": e["entitlement"] if t["category"] == "paid_vacation" else 0}}
            for t in c.time_off_types if t["unit"] == "day"]),
        "work_schedule": _a("work_schedule", {"type": "WorkSchedule", "attributes": dict(e["work_schedule"])}),
        "fix_salary": _a("fix_salary", e["fix_salary"], currency=employee_currency(c, e)),
        "fix_salary_interval": _a("fix_salary_interval", "monthly"),
        "hourly_salary": _a("hourly_salary", e["hourly_salary"], currency=employee_currency(c, e)),
        "last_working_day": _a("last_working_day", _v1_date(term)),
        "profile_picture": _a("profile_picture", "https://api.personio.de/v1/company/employees/%d/profile-picture" % e["id"]),
    }
    for k, _l, typ, _u, _o in D.DYNAMIC:
        v = e["dynamic"].get(k)
        if typ == "date":
            v = _v1_date(v)
        attrs[k] = _a(k, v)
    if attrs["supervisor"] is None:  # the top of the org chart has no supervisor: the attribute is left out
        del attrs["supervisor"]
    out = {"type": "Employee", "attributes": attrs}
    e["rendered_v1"] = out
    return out


def v1_employee(c: D.Company, e: dict, allowed: frozenset | None, projection: list[str] | None = None) -> dict:
    full = v1_employee_full(c, e)
    if allowed is None and not projection:
        return full
    attrs = full["attributes"]
    # ``id`` is the record's identity: Personio returns it whatever the whitelist or projection says.
    keys = [k for k in attrs if (allowed is None or k in allowed or k == "id") and (not projection or k in projection or k == "id")]
    out = {k: attrs[k] for k in keys}
    if allowed is not None and "supervisor" in out:  # the embedded Employee obeys the whitelist as well
        out["supervisor"] = dict(out["supervisor"], value=short_employee(c, e["supervisor_id"], allowed))
    return {"type": "Employee", "attributes": out}


def v1_employee_selection(ctx: Ctx) -> tuple[list[dict], dict]:
    """Employees matching filters (ordered by id) and pagination params."""
    c = ctx.company
    emps = c.listed_employees()
    us = ctx.get("updated_since")
    email = ctx.get("email")
    info = {"updated_since": us is not None}
    if us is not None:
        ts = parse_dt(us, v1_bad)
        # Fuzzy boundary: Personio's filter is "updated after", but compares at second granularity
        # and the boundary record itself comes back (inclusive) -> clients must de-duplicate.
        emps = [e for e in emps if e["updated_ts"] >= ts]
        wanted = ctx.params.get("attributes[]") or ctx.params.get("attributes")
        if wanted:
            # attributes[] also becomes a selection filter: only employees that had any of those (allowed)
            # attributes updated since then
            allowed = ctx.cred.attributes
            keys = [k for k in wanted if allowed is None or k in allowed]
            emps = [e for e in emps if any(D.attribute_updated_ts(e, k) >= ts for k in keys)]
    elif email:
        emps = [e for e in emps if e["email"].lower() == email.lower()]
    return emps, info


def h_v1_employees(ctx: Ctx):
    emps, info = memo(ctx, lambda: v1_employee_selection(ctx))
    if info["updated_since"]:
        limit = parse_int(ctx.get("limit"), "limit", v1_bad, 1, 200, 200)
    else:
        limit = parse_int(ctx.get("limit"), "limit", v1_bad, 1, 100, 50)
    offset = parse_int(ctx.get("offset"), "offset", v1_bad, 0, None, 0)
    projection = ctx.params.get("attributes[]") or ctx.params.get("attributes")
    total = len(emps)
    page = emps[offset:offset + limit]
    items = [v1_employee(ctx.company, e, ctx.cred.attributes, projection) for e in page]
    return 200, v1_list_envelope(items, total, offset // limit, math.ceil(total / limit), offset, limit)


def h_v1_employee(ctx: Ctx):
    eid = parse_int(ctx.match["employee_id"], "employee_id", lambda m: v1_error(404, "Es ist ein Problem aufgetreten "))
    e = ctx.company.employees.get(eid)
    if e is None:
        raise v1_error(404, "Es ist ein Problem aufgetreten ")
    return 200, {"success": True, "data": v1_employee(ctx.company, e, ctx.cred.attributes)}


def employee_attributes(allowed: frozenset | None) -> list[dict]:
    """``/company/employees/attributes``: the attributes a credential may see ("Lists all the allowed
    attributes per API credentials")."""
    out = []
    for k, label, typ in D.STANDARD_ATTRS:
        if allowed is None or k in allowed:
            out.append({"key": k, "label": label, "type": typ, "universal_id": k, "options": []})
    for k, label, typ, uid, opts in D.DYNAMIC:
        if allowed is None or k in allowed:
            out.append({"key": k, "label": label, "type": typ, "universal_id": uid, "options": list(opts)})
    return out


def h_v1_attributes(ctx: Ctx):
    return 200, {"success": True, "data": employee_attributes(ctx.cred.attributes)}


def _absences_by_employee(c: D.Company) -> dict[int, list[dict]]:
    """Each employee's absences, in ``Company.absences`` order (a balance would otherwise scan every absence
    of the company for each employee)."""
    out: dict[int, list[dict]] = {}
    for a in c.absences.values():
        out.setdefault(a["employee_id"], []).append(a)
    return out


def employee_balance(c: D.Company, eid: int) -> list[dict]:
    e = c.employees[eid]
    today = c.now()
    own = per_version(c, "absences_by_employee", lambda: _absences_by_employee(c)).get(eid, ())
    out = []
    for t in c.time_off_types:
        if t["unit"] != "day":
            continue
        taken = upcoming = 0.0
        for a in own:
            if a["type_id"] != t["id"] or a["status"] == "rejected":
                continue
            for d, v in day_breakdown(a):
                if d <= today:
                    taken += v
                else:
                    upcoming += v
        ent = e["entitlement"] if t["category"] == "paid_vacation" else 0
        bal = ent - taken
        out.append({"id": t["id"], "name": t["name"], "category": t["category"],
                    "balance": num(bal), "available_balance": num(bal - upcoming)})
    return out


def h_v1_balance(ctx: Ctx):
    eid = parse_int(ctx.match["employee_id"], "employee_id", lambda m: v1_error(404, "Es ist ein Problem aufgetreten "))
    if eid not in ctx.company.employees:
        raise v1_error(404, "Es ist ein Problem aufgetreten ")
    return 200, {"success": True, "data": employee_balance(ctx.company, eid)}
