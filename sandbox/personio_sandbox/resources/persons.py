"""v2 persons and employments (persons-service / employment-contract specs)."""
from __future__ import annotations

from .. import data as D
from ..context import Ctx, memo
from ..data import DAY, iso_z, day_str
from ..errors import v2_error
from ..filters import ts_filters, ts_window
from ..model import shapes_on
from ..paging import v2_list


_V2_CA_TYPE = {"standard": "string", "date": "date", "integer": "int", "decimal": "double", "list": "string",
               "tags": "string_list", "multiline": "string", "link": "string"}


def person_updated_ts(e: dict) -> int:
    """v2 person ``updated_at``: moves on changes of the person itself, not of its employments (§10.4)."""
    return e.get("person_ts", e["updated_ts"])


# §10.3: what a trimmed (narrow) credential still gets
PERSON_TRIMMED_KEYS = ("id", "employments", "_meta")
EMPLOYMENT_TRIMMED_KEYS = ("id", "person", "status", "_meta")


def _trim(rec: dict, keys) -> dict:
    return {k: rec[k] for k in keys if k in rec}


def v2_person(c: D.Company, e: dict, base: str, trim: bool = False) -> dict:
    """A v2 person; ``trim``: as a narrow credential sees it (§10.3: only id, employments, _meta)."""
    pid = str(e["id"])
    cas = []
    live = shapes_on(c)
    for k, label, typ, uid, _o in D.DYNAMIC:
        v = e["dynamic"].get(k)
        if v is None:
            continue  # empty custom attributes are not listed
        if typ == "tags":
            v = v.split(",") if v else []
        elif live:
            pass  # §10.5 [3P live]: values are any JSON type (numbers stay numbers)
        elif not isinstance(v, str):
            v = str(v)  # the schema types values as string | string[] | object[]
        ca = {"id": k, "type": _V2_CA_TYPE[typ], "value": v}
        if not live:  # §10.5 [3P live]: custom attributes come without a label
            ca = {"id": k, "type": _V2_CA_TYPE[typ], "label": label, "value": v}
        if uid:
            ca["global_id"] = uid
        cas.append(ca)
    out = {
        "id": pid, "email": e["email"], "created_at": iso_z(e["created_ts"]), "updated_at": iso_z(person_updated_ts(e)),
        "first_name": e["first_name"], "last_name": e["last_name"], "preferred_name": e["preferred_name"],
        "gender": e["gender"].upper(),
        "profile_picture": {"url": "https://api.personio.de/v1/company/employees/%s/profile-picture" % pid},
        "status": "INACTIVE" if e["status"] == "inactive" else "ACTIVE",
        "custom_attributes": cas, "employments": [{"id": m["id"]} for m in e["employments"]],
        "_meta": {"links": {"employments": {"href": "%s/v2/persons/%s/employments" % (base, pid)}}},
    }
    return _trim(out, PERSON_TRIMMED_KEYS) if trim else out


def _termination(c: D.Company, e: dict) -> dict | None:
    term = e["term_ts"]
    if not term:
        return None
    if shapes_on(c):  # §10.5 [CHANGELOG]: the live names (the file says last_working_day, type, reason)
        return {"termination_date": day_str(term), "last_working_date": day_str(term),
                "terminated_at": day_str(term - 30 * DAY), "termination_type": "EMPLOYEE",
                "termination_reason": e["termination_reason"]}
    return {"termination_date": day_str(term), "last_working_day": day_str(term),
            "terminated_at": day_str(term - 30 * DAY), "type": "EMPLOYEE", "reason": e["termination_reason"]}


def v2_employment(c: D.Company, e: dict, m: dict, base: str, trim: bool = False) -> dict:
    """A v2 employment; ``trim``: as a narrow credential sees it (§10.3: only id, person, status, _meta)."""
    pid = str(e["id"])
    term = e["term_ts"]
    sup = e["supervisor_id"]
    org_units = [{"type": "department", "id": e["department_id"]}]
    if e["team_id"]:
        org_units.insert(0, {"type": "team", "id": e["team_id"]})
    links = {"person": {"href": "%s/v2/persons/%s" % (base, pid)}}
    if sup:
        links["supervisor"] = {"href": "%s/v2/persons/%s" % (base, sup)}
    out = {
        "id": m["id"],
        "status": {"active": "ACTIVE", "inactive": "INACTIVE", "onboarding": "ONBOARDING", "leave": "LEAVE"}[e["status"]],
        "weekly_working_hours": e["weekly_working_hours"], "full_time_weekly_working_hours": 40,
        "probation_end_date": day_str(e["probation_end_ts"]), "employment_start_date": day_str(e["hire_ts"]),
        "employment_end_date": day_str(term) if term else None,
        "type": e["employment_type"].upper(), "contract_end_date": e["contract_end_date"],
        "created_at": iso_z(m["created_ts"]), "updated_at": iso_z(m["updated_ts"]),
        "position": {"title": e["position"]}, "supervisor": {"id": str(sup)} if sup else None,
        "office": {"id": e["workplace_id"]}, "legal_entity": {"id": e["legal_entity_id"]},
        "job": {"id": m["job_id"]}, "sub_company": {"id": e["legal_entity_id"]},
        "org_units": org_units, "cost_centers": [{"id": cid, "weight": w} for cid, w in e["cost_centers"]],
        "person": {"id": pid},
        "termination": _termination(c, e),
        "_meta": {"links": links},
    }
    out = {k: v for k, v in out.items() if v is not None}  # absent rather than null (schema: not nullable)
    return _trim(out, EMPLOYMENT_TRIMMED_KEYS) if trim else out


def h_v2_persons(ctx: Ctx):
    c = ctx.company
    emps = memo(ctx, lambda: _v2_person_selection(ctx))
    return v2_list(ctx, emps, lambda e: v2_person(c, e, ctx.base_url, ctx.cred.trim_v2), 50, 10)


def _v2_person_selection(ctx: Ctx) -> list[dict]:
    """The persons matching the request's filters, in list order."""
    c = ctx.company
    # updated_at windows first, through an index (a windowed read asks for thousands of them)
    emps = ts_window(ctx, "updated_at", ("", "gt", "lt"), "persons in list order", c.listed_employees, person_updated_ts)
    ids = ctx.getlist("id")
    if ids:
        emps = [e for e in emps if str(e["id"]) in ids]
    emails = [x.lower() for x in ctx.getlist("email")]
    if emails:
        emps = [e for e in emps if e["email"].lower() in emails]
    for f in ("first_name", "last_name", "preferred_name"):
        v = ctx.get(f)
        if v is not None:
            emps = [e for e in emps if e[f] == v]
    emps = ts_filters(ctx, "created_at", ("", "gt", "lt"), emps, lambda e: e["created_ts"])
    st = ctx.get("status")
    if st is not None:
        if st not in ("ACTIVE", "INACTIVE"):
            raise v2_error(400, "Invalid status: must be ACTIVE or INACTIVE")
        emps = [e for e in emps if ("INACTIVE" if e["status"] == "inactive" else "ACTIVE") == st]
    return emps


def _person(ctx: Ctx, key: str) -> dict:
    try:
        e = ctx.company.employees.get(int(ctx.match[key]))
    except ValueError:
        e = None
    if e is None:
        raise v2_error(404, "The requested person was not found")
    return e


def h_v2_person(ctx: Ctx):
    return 200, v2_person(ctx.company, _person(ctx, "id"), ctx.base_url, ctx.cred.trim_v2)


def employments_in_order(e: dict) -> list[dict]:
    """A person's employments as listed: most recent first."""
    return sorted(e["employments"], key=lambda m: (-m["updated_ts"], m["id"]))


def h_v2_employments(ctx: Ctx):
    e = _person(ctx, "person_id")
    ms = employments_in_order(e)
    ids = ctx.getlist("id")
    if ids:
        ms = [m for m in ms if m["id"] in ids]
    ms = ts_filters(ctx, "updated_at", ("", "gt", "lt"), ms, lambda m: m["updated_ts"])
    return v2_list(ctx, ms, lambda m: v2_employment(ctx.company, e, m, ctx.base_url, ctx.cred.trim_v2), 50, 10)


def h_v2_employment(ctx: Ctx):
    e = _person(ctx, "person_id")
    m = next((m for m in e["employments"] if m["id"] == ctx.match["id"]), None)
    if m is None:
        raise v2_error(404, "The requested employment was not found")
    return 200, v2_employment(ctx.company, e, m, ctx.base_url, ctx.cred.trim_v2)
