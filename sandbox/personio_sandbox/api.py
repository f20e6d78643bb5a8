"""Pure Personio API logic: (company, path, query, credential) -> (status, body).

The server adds auth, rate limits, faults, caching and stats around this. Unit tests can use
``render`` and ``dataset`` directly on a ``data.Company``.
"""
from __future__ import annotations

import base64
import datetime as _dt
import itertools
import math
import re
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode, urlsplit

from . import data as D
from .data import DAY, iso_offset, iso_offset_nocolon, iso_z, day_str

V1_JSON = "application/json"
PROBLEM = "application/problem+json"
_trace = itertools.count(1)

V2_SCOPES = ["personio:persons:read", "personio:employments:read", "personio:absences:read",
             "personio:attendances:read", "personio:projects:read", "personio:org-units:read",
             "personio:legal-entities:read", "personio:cost-centers:read", "personio:workplaces:read",
             "personio:compensations:read", "personio:recruiting:read"]
V1_SCOPE_OF = {"personio:persons:read": "employees:read", "personio:absences:read": "absences:read",
               "personio:attendances:read": "attendances:read", "personio:projects:read": "projects:read"}


@dataclass(frozen=True)
class Credential:
    client_id: str
    client_secret: str
    scopes: frozenset = frozenset(V2_SCOPES)
    attributes: frozenset | None = None  # None = all

    @property
    def v1_scopes(self) -> list[str]:
        out = []
        for s in V2_SCOPES:
            v = V1_SCOPE_OF.get(s)
            if v and s in self.scopes and v not in out:
                out.append(v)
        return out

    @property
    def cache_key(self) -> tuple:
        return (tuple(sorted(self.attributes)) if self.attributes is not None else None,
                tuple(sorted(self.scopes)))


FULL = Credential("sandbox", "sandbox")


class ApiError(Exception):
    def __init__(self, status: int, body, content_type: str = V1_JSON):
        self.status, self.body, self.content_type = status, body, content_type


@dataclass
class Ctx:
    company: D.Company
    path: str
    params: dict[str, list[str]]
    cred: Credential = FULL
    base_url: str = "http://127.0.0.1"
    relative_attendance_links: bool = False
    match: dict = field(default_factory=dict)
    # False: time-offs carry half_day_start/half_day_end as 0/1 like the real API (issue 2; the official
    # schema says boolean). True (--spec-strict-booleans): booleans, as the schema declares.
    strict_booleans: bool = False

    def get(self, name: str, default=None):
        v = self.params.get(name)
        return v[-1] if v else default

    def getlist(self, name: str) -> list[str]:
        out = []
        for v in self.params.get(name, []):
            out.extend(x for x in v.split(",") if x != "")
        return out


# ------------------------------------------------------------------ error bodies
def now_z() -> str:
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def trace_id() -> str:
    return "sbx-%012x" % next(_trace)


def v1_error(status: int, message: str, code: int | None = None) -> ApiError:
    return ApiError(status, {"success": False, "error": {"code": status if code is None else code, "message": message}})


ERROR_TITLES = {400: ("Bad request", "common.bad_request"), 401: ("Unauthorized", "common.unauthorized"),
                403: ("Forbidden", "common.forbidden"), 404: ("Resource not found", "common.resource_not_found"),
                412: ("Precondition failed", "common.precondition_failed"),
                429: ("Too many requests", "common.too_many_requests"),
                500: ("Internal server error", "common.internal_server_error"),
                502: ("Bad gateway", "common.bad_gateway"), 503: ("Service unavailable", "common.service_unavailable"),
                504: ("Gateway timeout", "common.gateway_timeout")}


def problem_body(status: int, detail: str) -> dict:
    title, code = ERROR_TITLES.get(status, ("Error", "common.error"))
    return {"personio_trace_id": trace_id(), "timestamp": now_z(),
            "errors": [{"title": title, "detail": detail,
                        "type": "https://developer.personio.de/reference/errors#" + code, "_meta": {}}]}


def v2_error(status: int, detail: str) -> ApiError:
    return ApiError(status, problem_body(status, detail), PROBLEM)


def oauth_error(error: str, description: str, status: int = 400) -> ApiError:
    return ApiError(status, {"error": error, "error_description": description,
                             "error_uri": "https://developer.personio.de/reference/errors#credentials." + error,
                             "timestamp": now_z(), "trace_id": trace_id(), "meta": {}}, PROBLEM)


def reports_error(status: int, title: str, details: str, field_: str = "ID") -> ApiError:
    return ApiError(status, [{"status": status, "trace_id": trace_id(), "timestamp": now_z(),
                              "errors": [{"title": title, "details": details, "type": "custom_reports",
                                          "_meta": [{"field": field_, "description": details}]}]}])


# ------------------------------------------------------------------ v1 renderers
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


def _org(c: D.Company, oid):
    for u in c.org_units:
        if u["id"] == oid:
            return u
    return None


def v1_employee_full(c: D.Company, e: dict) -> dict:
    cached = e.get("rendered_v1")
    if cached is not None:
        return cached
    sup = e["supervisor_id"]
    le = next(x for x in c.legal_entities if x["id"] == e["legal_entity_id"])
    wp = next(x for x in c.workplaces if x["id"] == e["workplace_id"])
    dept = _org(c, e["department_id"])
    team = _org(c, e["team_id"]) if e["team_id"] else None
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
        "fix_salary": _a("fix_salary", e["fix_salary"], currency="EUR"),
        "fix_salary_interval": _a("fix_salary_interval", "monthly"),
        "hourly_salary": _a("hourly_salary", e["hourly_salary"], currency="EUR"),
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


def _tot(c: D.Company, tid: int) -> dict:
    for t in c.time_off_types:
        if t["id"] == tid:
            return t
    raise KeyError(tid)


def _workdays(a: dict):
    d = a["start_day"]
    while d <= a["end_day"]:
        if _dt.datetime.fromtimestamp(d, _dt.timezone.utc).weekday() < 5:
            yield d
        d += DAY


def day_breakdown(a: dict) -> list[tuple[int, float]]:
    days = list(_workdays(a))
    out = []
    for i, d in enumerate(days):
        v = 1.0
        if i == 0 and a["half_day_start"]:
            v = 0.5
        if i == len(days) - 1 and a["half_day_end"] and len(days) > 1:
            v = 0.5
        out.append((d, v))
    return out


def _num(x: float):
    return int(x) if float(x).is_integer() else x


def v1_time_off(c: D.Company, a: dict, allowed: frozenset | None = None, strict_booleans: bool = False) -> dict:
    t = _tot(c, a["type_id"])
    hs, he = bool(a["half_day_start"]), bool(a["half_day_end"])
    return {"type": "TimeOffPeriod", "attributes": {
        "id": a["id"], "status": a["status"],
        "start_date": iso_offset_nocolon(a["start_day"] - 3600), "end_date": iso_offset_nocolon(a["end_day"] - 3600),
        "days_count": _num(sum(v for _d, v in day_breakdown(a))),
        # the real API sends 0/1 here (issue 2), the official schema says boolean
        "half_day_start": hs if strict_booleans else int(hs), "half_day_end": he if strict_booleans else int(he),
        "time_off_type": {"type": "TimeOffType", "attributes": {"id": t["id"], "name": t["name"], "category": t["category"]}},
        "employee": short_employee(c, a["employee_id"], allowed),
        "created_by": a["created_by"],
        "certificate": {"status": "not-required" if t["category"] != "sick_leave" else "pending"},
        "created_at": iso_offset_nocolon(a["created_ts"]), "updated_at": iso_offset_nocolon(a["updated_ts"]),
    }}


def _ms_z(ts: int) -> str:
    return _dt.datetime.fromtimestamp(ts, _dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.0Z")


def _hour_window(a: dict) -> tuple[int, int]:
    start = a["start_day"] + a["start_min"] * 60 - 3600
    return start, start + a["minutes"] * 60


def v1_absence_period(c: D.Company, a: dict, allowed: frozenset | None = None) -> dict:
    t = _tot(c, a["type_id"])
    s, e = _hour_window(a)
    return {"type": "AbsencePeriod", "attributes": {
        "id": a["uuid"], "measurement_unit": "hour", "effective_duration": a["minutes"],
        "employee": short_employee(c, a["employee_id"], allowed),
        "absence_type": {"type": "AbsenceType", "id": t["uuid"], "name": t["name"], "time_off_type_id": t["id"],
                         "attributes": {"id": t["uuid"], "name": t["name"], "time_off_type_id": t["id"]}},
        "certificate": {"status": "not-required"},
        "start": _ms_z(s), "end": _ms_z(e), "half_day_start": False, "half_day_end": False,
        "comment": a["comment"], "origin": a["origin"], "status": a["status"], "timezone": "Europe/Berlin",
        "created_by": c.person_order and c.person_order[0] or 1,
        "created_at": _ms_z(a["created_ts"]), "updated_at": _ms_z(a["updated_ts"]),
        "approved_at": _ms_z(a["updated_ts"]) if a["status"] == "approved" else None,
        "breakdowns": [{"date": day_str(a["start_day"]), "effective_duration": a["minutes"]}],
    }}


def v1_time_off_type(t: dict) -> dict:
    return {"type": "TimeOffType", "attributes": {"id": t["id"], "name": t["name"], "category": t["category"],
                                                  "unit": t["unit"], "approval_required": t["approval_required"]}}


# ------------------------------------------------------------------ v2 renderers
_V2_CA_TYPE = {"standard": "string", "date": "date", "integer": "int", "decimal": "double", "list": "string",
               "tags": "string_list", "multiline": "string", "link": "string"}


def person_updated_ts(e: dict) -> int:
    """v2 person ``updated_at``: moves on changes of the person itself, not of its employments (§10.4)."""
    return e.get("person_ts", e["updated_ts"])


def v2_person(c: D.Company, e: dict, base: str) -> dict:
    pid = str(e["id"])
    cas = []
    for k, label, typ, uid, _o in D.DYNAMIC:
        v = e["dynamic"].get(k)
        if v is None:
            continue  # empty custom attributes are not listed
        if typ == "tags":
            v = v.split(",") if v else []
        elif not isinstance(v, str):
            v = str(v)  # the schema types values as string | string[] | object[]
        ca = {"id": k, "type": _V2_CA_TYPE[typ], "label": label, "value": v}
        if uid:
            ca["global_id"] = uid
        cas.append(ca)
    return {
        "id": pid, "email": e["email"], "created_at": iso_z(e["created_ts"]), "updated_at": iso_z(person_updated_ts(e)),
        "first_name": e["first_name"], "last_name": e["last_name"], "preferred_name": e["preferred_name"],
        "gender": e["gender"].upper(),
        "profile_picture": {"url": "https://api.personio.de/v1/company/employees/%s/profile-picture" % pid},
        "status": "INACTIVE" if e["status"] == "inactive" else "ACTIVE",
        "custom_attributes": cas, "employments": [{"id": m["id"]} for m in e["employments"]],
        "_meta": {"links": {"employments": {"href": "%s/v2/persons/%s/employments" % (base, pid)}}},
    }


def v2_employment(c: D.Company, e: dict, m: dict, base: str) -> dict:
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
        "termination": {"termination_date": day_str(term), "last_working_day": day_str(term),
                        "terminated_at": day_str(term - 30 * DAY), "type": "EMPLOYEE",
                        "reason": e["termination_reason"]} if term else None,
        "_meta": {"links": links},
    }
    return {k: v for k, v in out.items() if v is not None}  # absent rather than null (schema: not nullable)


def v2_absence_type(t: dict) -> dict:
    return {"id": t["uuid"], "name": t["name"], "category": t["v2_category"], "unit": t["unit"].upper()}


def _local(ts: int) -> str:
    return _dt.datetime.fromtimestamp(ts, _dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")


def v2_absence_window(a: dict) -> tuple[str, str]:
    if a["unit"] == "hour":
        s = a["start_day"] + a["start_min"] * 60
        return _local(s), _local(s + a["minutes"] * 60)
    return _local(a["start_day"]), _local(a["end_day"])


def v2_absence_period(c: D.Company, a: dict) -> dict:
    t = _tot(c, a["type_id"])
    s, e = v2_absence_window(a)
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
        return [{"date": day_str(a["start_day"]), "effective_duration": {"unit": "HOUR", "value": _num(a["minutes"] / 60)}}]
    return [{"date": day_str(d), "effective_duration": {"unit": "DAY", "value": _num(v)}} for d, v in day_breakdown(a)]


def v2_project(p: dict) -> dict:
    return {"id": p["id"], "name": p["name"], "project_code": p["project_code"], "status": p["status"],
            "parent_project": {"id": p["parent_id"]} if p["parent_id"] else None,
            "created_at": iso_z(p["created_ts"]), "updated_at": iso_z(p["updated_ts"])}


def v2_org_unit(c: D.Company, u: dict, chain: bool) -> dict:
    out = {"id": u["id"], "type": u["type"], "name": u["name"], "abbreviation": u["abbreviation"],
           "parent": {"id": u["parent_id"]} if u["parent_id"] else None}
    if chain:
        pc, cur = [], u
        while cur["parent_id"]:
            cur = _org(c, cur["parent_id"])
            pc.append({"id": cur["id"], "type": cur["type"], "name": cur["name"]})
        out["parent_chain"] = pc
    return out


def _app_render(c: D.Company, a: dict) -> dict:
    cand = c._cand_idx[a["candidate_id"]]
    job = c._job_idx[a["job_id"]]
    cur = a["transitions"][-1]["stage"]
    return {"id": a["id"], "application_date": day_str(a["application_ts"]),
            "candidate": {"id": cand["id"], "email": cand["email"], "first_name": cand["first_name"],
                          "last_name": cand["last_name"], "gender": cand["gender"]},
            "job": _job_render(c, job, short=True), "current_stage": dict(cur, type=cur["kind"]),
            "channel": {"id": a["channel"].lower().replace(" ", "-"), "name": a["channel"]},
            "hiring_team": [{"id": x} for x in job["hiring_team"]], "is_anonymized": False,
            "created_at": iso_z(a["created_ts"]), "updated_at": iso_z(a["updated_ts"])}


def _job_render(c: D.Company, j: dict, short: bool = False) -> dict:
    dept = _org(c, j["department_id"])
    cat = next(x for x in c.recruiting_categories if x["id"] == j["category_id"])
    out = {"id": j["id"], "name": j["name"], "department": {"id": dept["id"], "name": dept["name"]},
           "category": {"id": cat["id"], "name": cat["name"]}}
    if not short:
        out.update({"hiring_team": [{"id": x} for x in j["hiring_team"]], "company": {"id": "1"},
                    "created_at": iso_z(j["created_ts"]), "updated_at": iso_z(j["updated_ts"])})
    return out


def _cand_render(c: D.Company, x: dict) -> dict:
    return {"id": x["id"], "first_name": x["first_name"], "last_name": x["last_name"], "email": x["email"],
            "gender": x["gender"], "phone": x["phone"], "location": x["location"],
            "applications": [{"id": aid, "application_date": day_str(c._app_idx[aid]["application_ts"])}
                             for aid in x["application_ids"] if aid in c._app_idx],
            "created_at": iso_z(x["created_ts"]), "updated_at": iso_z(x["updated_ts"])}


def ensure_indexes(c: D.Company) -> None:
    if getattr(c, "_idx_version", None) == c.version:
        return
    c._cand_idx = {x["id"]: x for x in c.candidates}
    c._job_idx = {x["id"]: x for x in c.jobs}
    c._app_idx = {x["id"]: x for x in c.applications}
    c._abs_uuid = {a["uuid"]: a for a in c.absences.values()}
    c._person_index = {eid: i for i, eid in enumerate(c.person_order)}
    c._idx_version = c.version


def memo(ctx: "Ctx", fn):
    """Cache a handler's full filtered list per (path, filters without paging params, data version)."""
    c = ctx.company
    store = getattr(c, "_memo", None)
    if store is None or getattr(c, "_memo_version", None) != c.version:
        store = c._memo = {}
        c._memo_version = c.version
    key = (ctx.path, tuple(sorted((k, tuple(v)) for k, v in ctx.params.items()
                                  if k not in ("cursor", "limit", "offset", "page"))), ctx.cred.cache_key)
    hit = store.get(key)
    if hit is None:
        if len(store) > 2000:
            store.clear()
        hit = store[key] = fn()
    return hit


# ------------------------------------------------------------------ parsing helpers
def parse_int(v, name: str, err, lo: int | None = None, hi: int | None = None, default=None):
    if v is None or v == "":
        return default
    try:
        n = int(v)
    except (TypeError, ValueError):
        raise err("Invalid %s: %r is not an integer" % (name, v))
    if (lo is not None and n < lo) or (hi is not None and n > hi):
        rng = "between %s and %s" % (lo, hi) if hi is not None else "at least %s" % lo
        raise err("Invalid %s: %s must be %s" % (name, name, rng))
    return n


def _v1_bad(msg):
    return v1_error(400, msg)


def _v2_bad(msg):
    return v2_error(400, msg)


def parse_dt(v: str, err, allow_z: bool = True) -> int:
    """Parse an ISO date or date-time (naive = UTC) into epoch seconds."""
    s = v.strip()
    if not allow_z and (s.endswith("Z") or s.endswith("z")):
        raise err("Invalid date-time %r: must be a local date-time without zone designator" % v)
    try:
        if len(s) == 10:
            d = _dt.datetime.strptime(s, "%Y-%m-%d")
        else:
            d = _dt.datetime.fromisoformat(s.replace("Z", "+00:00").replace(" ", "T"))
    except ValueError:
        raise err("Invalid date-time: %r" % v)
    if d.tzinfo is None:
        d = d.replace(tzinfo=_dt.timezone.utc)
    return int(d.timestamp())


def parse_date(v: str, err) -> int:
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", v or ""):
        raise err("Invalid date %r: expected format YYYY-MM-DD" % v)
    try:
        return D.day_epoch(v)
    except ValueError:
        raise err("Invalid date %r" % v)


# ------------------------------------------------------------------ v1 endpoints
def _v1_list_envelope(items, total, current_page, total_pages, offset, limit):
    return {"success": True, "metadata": {"total_elements": total, "current_page": current_page,
                                          "total_pages": total_pages}, "offset": offset, "limit": limit, "data": items}


def v1_employee_selection(ctx: Ctx) -> tuple[list[dict], dict]:
    """Employees matching filters (ordered by id) and pagination params."""
    c = ctx.company
    emps = c.listed_employees()
    us = ctx.get("updated_since")
    email = ctx.get("email")
    info = {"updated_since": us is not None}
    if us is not None:
        ts = parse_dt(us, _v1_bad)
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
    emps, info = v1_employee_selection(ctx)
    if info["updated_since"]:
        limit = parse_int(ctx.get("limit"), "limit", _v1_bad, 1, 200, 200)
    else:
        limit = parse_int(ctx.get("limit"), "limit", _v1_bad, 1, 100, 50)
    offset = parse_int(ctx.get("offset"), "offset", _v1_bad, 0, None, 0)
    projection = ctx.params.get("attributes[]") or ctx.params.get("attributes")
    total = len(emps)
    page = emps[offset:offset + limit]
    items = [v1_employee(ctx.company, e, ctx.cred.attributes, projection) for e in page]
    return 200, _v1_list_envelope(items, total, offset // limit, math.ceil(total / limit), offset, limit)


def h_v1_employee(ctx: Ctx):
    eid = parse_int(ctx.match["employee_id"], "employee_id", lambda m: v1_error(404, "Es ist ein Problem aufgetreten "))
    e = ctx.company.employees.get(eid)
    if e is None:
        raise v1_error(404, "Es ist ein Problem aufgetreten ")
    return 200, {"success": True, "data": v1_employee(ctx.company, e, ctx.cred.attributes)}


def h_v1_attributes(ctx: Ctx):
    out = []
    allowed = ctx.cred.attributes
    for k, label, typ in D.STANDARD_ATTRS:
        if allowed is None or k in allowed:
            out.append({"key": k, "label": label, "type": typ, "universal_id": k, "options": []})
    for k, label, typ, uid, opts in D.DYNAMIC:
        if allowed is None or k in allowed:
            out.append({"key": k, "label": label, "type": typ, "universal_id": uid, "options": list(opts)})
    return 200, {"success": True, "data": out}


def employee_balance(c: D.Company, eid: int) -> list[dict]:
    e = c.employees[eid]
    today = c.now()
    out = []
    for t in c.time_off_types:
        if t["unit"] != "day":
            continue
        taken = upcoming = 0.0
        for a in c.absences.values():
            if a["employee_id"] != eid or a["type_id"] != t["id"] or a["status"] == "rejected":
                continue
            for d, v in day_breakdown(a):
                if d <= today:
                    taken += v
                else:
                    upcoming += v
        ent = e["entitlement"] if t["category"] == "paid_vacation" else 0
        bal = ent - taken
        out.append({"id": t["id"], "name": t["name"], "category": t["category"],
                    "balance": _num(bal), "available_balance": _num(bal - upcoming)})
    return out


def h_v1_balance(ctx: Ctx):
    eid = parse_int(ctx.match["employee_id"], "employee_id", lambda m: v1_error(404, "Es ist ein Problem aufgetreten "))
    if eid not in ctx.company.employees:
        raise v1_error(404, "Es ist ein Problem aufgetreten ")
    return 200, {"success": True, "data": employee_balance(ctx.company, eid)}


def h_v1_time_off_types(ctx: Ctx):
    limit = parse_int(ctx.get("limit"), "limit", _v1_bad, 1, None, 200)
    offset = parse_int(ctx.get("offset"), "offset", _v1_bad, 0, None, 0)
    items = [v1_time_off_type(t) for t in ctx.company.time_off_types]
    return 200, {"success": True, "data": items[offset:offset + limit]}


def _absence_filter(ctx: Ctx, unit: str, updated_date_only: bool) -> list[dict]:
    c = ctx.company
    out = [a for a in c.absences.values() if a["unit"] == unit]
    sd, ed = ctx.get("start_date"), ctx.get("end_date")
    if sd:
        s = parse_date(sd, _v1_bad)
        out = [a for a in out if a["end_day"] >= s]
    if ed:
        e = parse_date(ed, _v1_bad)
        out = [a for a in out if a["start_day"] <= e]
    uf, ut = ctx.get("updated_from"), ctx.get("updated_to")
    if uf:
        f = parse_date(uf, _v1_bad) if updated_date_only else parse_dt(uf, _v1_bad)
        out = [a for a in out if a["updated_ts"] >= f]
    if ut:
        t = parse_date(ut, _v1_bad) + DAY - 1 if updated_date_only else parse_dt(ut, _v1_bad)
        if not updated_date_only and len(ut.strip()) == 10:
            t += DAY - 1
        out = [a for a in out if a["updated_ts"] <= t]
    emps = ctx.getlist("employees[]") + ctx.getlist("employees")
    if emps:
        ids = set()
        for x in emps:
            ids.add(parse_int(x, "employees", _v1_bad))
        out = [a for a in out if a["employee_id"] in ids]
    return out


def _page_number_list(ctx: Ctx, items, render):
    limit = parse_int(ctx.get("limit"), "limit", _v1_bad, 1, None, 200)
    offset = parse_int(ctx.get("offset"), "offset", _v1_bad, 0, None, 0)
    page = max(offset, 1)  # 1-based page number; 0 behaves as 1
    total = len(items)
    chunk = items[(page - 1) * limit: page * limit]
    return 200, _v1_list_envelope([render(ctx, a) for a in chunk], total, page,
                                  math.ceil(total / limit), offset, limit)


def h_v1_time_offs(ctx: Ctx):
    return _page_number_list(ctx, memo(ctx, lambda: _absence_filter(ctx, "day", True)), _time_off_of)


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
    return _page_number_list(ctx, memo(ctx, lambda: _v1_absence_periods_items(ctx)), _absence_period_of)


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


def h_v1_document_categories(ctx: Ctx):
    return 200, {"success": True, "data": [{"id": d["id"], "type": "DocumentCategory", "attributes": {"name": d["name"]}}
                                           for d in ctx.company.document_categories]}


REPORT_COLUMNS = [("first_name", "First name", "TEXT"), ("last_name", "Last name", "TEXT"),
                  ("position", "Position", "TEXT"), ("department", "Department", "ENTITY"),
                  ("fix_salary", "Fix salary", "SALARY")]


def _report_meta(c: D.Company, r: dict) -> dict:
    # the reports have a fixed period (period_type "fixed"), set when they were generated
    end = day_str(D.BASE_EPOCH - DAY)
    start = end if r["type"] == "point_in_time" else day_str(D.BASE_EPOCH - (90 if r["type"] == "timeframe" else 365) * DAY)
    return {"id": r["id"], "name": r["name"], "description": r["description"], "author_first_name": "Robert",
            "author_last_name": "Sirano", "type": r["type"], "status": "up_to_date", "start_date": start,
            "end_date": end, "created_at": iso_z(r["created_ts"]), "updated_at": iso_z(r["updated_ts"]),
            "data_refreshed_at": iso_z(r["refreshed_ts"]), "columns": [x[0] for x in REPORT_COLUMNS],
            "filters": [{"column": "status", "comparison": "eq", "value": "active"}], "period_type": "fixed"}


def h_v1_reports(ctx: Ctx):
    c = ctx.company
    reps = c.reports
    ids = ctx.getlist("report_ids") + ctx.getlist("report_ids[]")
    if ids:
        reps = [r for r in reps if r["id"] in ids]
    status = ctx.get("status")
    if status and status != "up_to_date":
        reps = []
    data = [{"type": "Report", "attributes": _report_meta(c, r)} for r in reps]
    return 200, {"success": True, "metadata": {"total_elements": len(data), "current_page": 1, "total_pages": 1},
                 "offset": 0, "limit": len(data), "data": data}


def _report_cells(c: D.Company, e: dict, hist: bool) -> list[dict]:
    dept = _org(c, e["department_id"])
    cells = [
        {"attribute_id": "first_name", "data_type": "TEXT", "value": e["first_name"]},
        {"attribute_id": "last_name", "data_type": "TEXT", "value": e["last_name"]},
        {"attribute_id": "position", "data_type": "TEXT", "value": e["position"]},
        {"attribute_id": "department", "data_type": "ENTITY", "entity_id": dept["id"], "value": dept["name"]},
        {"attribute_id": "fix_salary", "data_type": "SALARY", "amount": "%.2f" % e["fix_salary"], "currency_symbol": "€"},
    ]
    for cell in cells:
        cell["employee_id"] = e["id"]
        if hist:
            cell["effective_date"] = day_str(max(e["hire_ts"], D.BASE_EPOCH - 365 * DAY))
    return cells


def report_rows(c: D.Company, r: dict) -> list[dict]:
    hist = r["type"] == "historical_data"
    rows = []
    for eid in c.person_order:
        e = c.employees.get(eid)
        if e is None or e["status"] == "inactive":
            continue
        key = "historical_attributes" if hist else "attributes"
        rows.append({"employee_id": e["id"], key: _report_cells(c, e, hist)})
    return rows


def h_v1_report(ctx: Ctx):
    c = ctx.company
    r = next((x for x in c.reports if x["id"] == ctx.match["report_id"]), None)
    if r is None:
        raise reports_error(404, "Not Found", "Report not found")

    def bad(msg):
        return reports_error(400, "Bad Request", msg, "page")
    page = parse_int(ctx.get("page"), "page", bad, 1, None, 1)
    limit = parse_int(ctx.get("limit"), "limit", bad, 1, 1000, 100)
    rows = report_rows(c, r)
    total = len(rows)
    attrs = dict(_report_meta(c, r))
    attrs["start_date"] += "T00:00:00Z"  # the item schemas declare date-time here (the list uses date)
    attrs["end_date"] += "T00:00:00Z"
    attrs["items"] = rows[(page - 1) * limit: page * limit]
    return 200, {"success": True, "metadata": {"total_elements": total, "current_page": page,
                                               "total_pages": math.ceil(total / limit)},
                 "offset": (page - 1) * limit, "limit": limit, "data": [{"type": "Report", "attributes": attrs}]}


def h_v1_report_columns(ctx: Ctx):
    cols = REPORT_COLUMNS
    want = ctx.getlist("columns") + ctx.getlist("columns[]")
    if want:
        cols = [x for x in cols if x[0] in want]
    return 200, {"success": True, "data": {"type": "Column", "attributes": [
        {"attribute_id": a, "human_readable": h, "data_type": t} for a, h, t in cols]}}


def h_v1_switched_off(ctx: Ctx):
    raise v1_error(410, "This endpoint was switched off on 2026-08-30 (final deprecation of the v1 Attendances and "
                        "Projects endpoints). Use the v2 attendance-periods and projects APIs instead.")


# ------------------------------------------------------------------ v2 pagination
def encode_cursor(state) -> str:
    raw = ".".join(str(x) for x in state).encode()
    return "cur_" + base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(s: str) -> list[int]:
    try:
        if not s.startswith("cur_"):
            raise ValueError
        b = s[4:]
        raw = base64.urlsafe_b64decode(b + "=" * (-len(b) % 4)).decode()
        return [int(x) for x in raw.split(".")]
    except Exception:
        raise v2_error(400, "Invalid cursor")


def _links(ctx: Ctx, next_state, relative: bool = False) -> dict:
    base = "" if relative else ctx.base_url
    q = [(k, v) for k, vs in ctx.params.items() if k != "cursor" for v in vs]
    selfq = [(k, v) for k, vs in ctx.params.items() for v in vs]
    links = {"self": {"href": base + ctx.path + ("?" + urlencode(selfq) if selfq else "")}}
    if next_state is not None:
        q.append(("cursor", encode_cursor(next_state)))
        links["next"] = {"href": base + ctx.path + "?" + urlencode(q)}
    return links


def v2_limit(ctx: Ctx, hi: int, default: int) -> int:
    return parse_int(ctx.get("limit"), "limit", _v2_bad, 1, hi, default)


def v2_list(ctx: Ctx, items: list, render, hi: int, default: int):
    limit = v2_limit(ctx, hi, default)
    cur = ctx.get("cursor")
    offset = decode_cursor(cur)[0] if cur else 0
    chunk = items[offset:offset + limit]
    nxt = (offset + limit,) if offset + limit < len(items) else None
    return 200, {"_data": [render(x) for x in chunk], "_meta": {"links": _links(ctx, nxt)}}


def _ts_filters(ctx: Ctx, field_: str, ops: tuple, items: list, key, allow_z=True) -> list:
    for op in ops:
        name = field_ if op == "" else field_ + "." + op
        v = ctx.get(name)
        if v is None:
            continue
        t = parse_dt(v, _v2_bad, allow_z)
        if op == "gt":
            items = [x for x in items if key(x) > t]
        elif op == "gte":
            items = [x for x in items if key(x) >= t]
        elif op == "lt":
            items = [x for x in items if key(x) < t]
        elif op == "lte":
            items = [x for x in items if key(x) <= t]
        else:
            items = [x for x in items if key(x) == t]
    return items


def h_v2_persons(ctx: Ctx):
    c = ctx.company
    emps = c.listed_employees()
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
    emps = _ts_filters(ctx, "created_at", ("", "gt", "lt"), emps, lambda e: e["created_ts"])
    emps = _ts_filters(ctx, "updated_at", ("", "gt", "lt"), emps, person_updated_ts)
    st = ctx.get("status")
    if st is not None:
        if st not in ("ACTIVE", "INACTIVE"):
            raise v2_error(400, "Invalid status: must be ACTIVE or INACTIVE")
        emps = [e for e in emps if ("INACTIVE" if e["status"] == "inactive" else "ACTIVE") == st]
    return v2_list(ctx, emps, lambda e: v2_person(c, e, ctx.base_url), 50, 10)


def _person(ctx: Ctx, key: str) -> dict:
    try:
        e = ctx.company.employees.get(int(ctx.match[key]))
    except ValueError:
        e = None
    if e is None:
        raise v2_error(404, "The requested person was not found")
    return e


def h_v2_person(ctx: Ctx):
    return 200, v2_person(ctx.company, _person(ctx, "id"), ctx.base_url)


def h_v2_employments(ctx: Ctx):
    e = _person(ctx, "person_id")
    ms = sorted(e["employments"], key=lambda m: (-m["updated_ts"], m["id"]))  # most recent first
    ids = ctx.getlist("id")
    if ids:
        ms = [m for m in ms if m["id"] in ids]
    ms = _ts_filters(ctx, "updated_at", ("", "gt", "lt"), ms, lambda m: m["updated_ts"])
    return v2_list(ctx, ms, lambda m: v2_employment(ctx.company, e, m, ctx.base_url), 50, 10)


def h_v2_employment(ctx: Ctx):
    e = _person(ctx, "person_id")
    m = next((m for m in e["employments"] if m["id"] == ctx.match["id"]), None)
    if m is None:
        raise v2_error(404, "The requested employment was not found")
    return 200, v2_employment(ctx.company, e, m, ctx.base_url)


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
    items = sorted(c.absences.values(), key=lambda a: a["uuid"])
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
            t = parse_dt(g, _v2_bad)
            items = [a for a in items if D.day_epoch(v2_absence_window(a)[1]) + DAY > t]
        if l:
            t = parse_dt(l, _v2_bad)
            items = [a for a in items if D.day_epoch(v2_absence_window(a)[0]) <= t]
    return _ts_filters(ctx, "updated_at", ("gte", "lte"), items, lambda a: a["updated_ts"])


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


# --- attendance periods (virtual, cursor = (person index, record index))
def _att_filters(ctx: Ctx):
    c = ctx.company
    f = {}
    ids = ctx.getlist("id")
    if ids:
        f["id"] = set(ids)
    pids = ctx.getlist("person.id")
    if pids:
        f["person"] = set(pids)
    for name in ("start.date_time", "end.date_time", "attribution_date"):
        for op in ("gte", "lte"):
            v = ctx.get(name + "." + op)
            if v is not None:
                if name == "attribution_date":
                    parse_date(v, _v2_bad)
                    f[(name, op)] = v
                else:
                    parse_dt(v, _v2_bad, allow_z=False)
                    f[(name, op)] = v.replace(" ", "T") if len(v) > 10 else v + "T00:00:00"
    for op in ("gte", "lte"):
        v = ctx.get("updated_at." + op)
        if v is not None:
            f[("updated_at", op)] = iso_z(parse_dt(v, _v2_bad, allow_z=False))  # compared as ISO strings
    proj = ctx.getlist("project.id")
    if proj:
        f["project"] = set(proj)
    st = ctx.get("status")
    if st:
        f["status"] = st.upper()
    sort = ctx.get("sort")
    if sort and sort.replace(" ", "") not in ("person.id,start.date_time,end.date_time", "person.id,start.date_time",
                                              "person.id"):
        f["sort"] = sort
    return f


def _att_match(r: dict, f: dict) -> bool:
    if "id" in f and r["id"] not in f["id"]:
        return False
    for (name, op), v in ((k, v) for k, v in f.items() if isinstance(k, tuple)):
        if name == "updated_at":
            rv = r["updated_at"]
        elif name == "attribution_date":
            rv = r["attribution_date"]
        else:
            rv = r["start" if name.startswith("start") else "end"]["date_time"]
        if (op == "gte" and rv < v) or (op == "lte" and rv > v):
            return False
    if "project" in f and (r["project"] is None or r["project"]["id"] not in f["project"]):
        return False
    if "status" in f and r["approval"]["status"] != f["status"]:
        return False
    return True


def _att_day_bounds(f: dict) -> tuple[int, int]:
    """Restrict the WORKDAYS index range from the filters (conservative)."""
    import bisect
    lo, hi = 0, len(D.WORKDAYS)
    for (name, op), v in ((k, v) for k, v in f.items() if isinstance(k, tuple)):
        if name == "updated_at":
            t = D.day_epoch(v[:10]) + int(v[11:13]) * 3600 + int(v[14:16]) * 60 + int(v[17:19])
            # base records: updated_at in [day + 18h, day + 19h)
            if op == "gte":
                lo = max(lo, bisect.bisect_left(D.WORKDAYS, t - 19 * 3600))
            else:
                hi = min(hi, bisect.bisect_right(D.WORKDAYS, t - 18 * 3600))
        else:
            t = D.day_epoch(v[:10])
            if op == "gte":
                lo = max(lo, bisect.bisect_left(D.WORKDAYS, t))
            else:
                hi = min(hi, bisect.bisect_right(D.WORKDAYS, t))
    return lo, hi


def attendance_page(c: D.Company, f: dict, state: tuple[int, int], limit: int):
    att = c.attendance
    ensure_indexes(c)
    persons = range(len(c.person_order))
    if "person" in f:
        persons = sorted(c._person_index[int(x)] for x in f["person"] if x.isdigit() and int(x) in c._person_index)
    day_lo, day_hi = _att_day_bounds(f)
    p0, j0 = state
    out = []
    for p in persons:
        if p < p0:
            continue
        if c.person_order[p] not in c.employees:
            continue
        start_j = j0 if p == p0 else 0
        for j in att.candidates(p, day_lo, day_hi, start_j):
            r = att.record(p, j)
            if r is None or not _att_match(r, f):
                continue
            if len(out) == limit:
                return out, (p, j)
            out.append(r)
    return out, None


def _att_sorted(c: D.Company, f: dict) -> list:
    allr, st = [], (0, 0)
    while st is not None:
        recs, st = attendance_page(c, f, st, 10000)
        allr.extend(recs)
    keys = [k.strip() for k in f["sort"].split(",") if k.strip()]
    paths = {"person.id": ("person", "id"), "start.date_time": ("start", "date_time"),
             "end.date_time": ("end", "date_time"), "updated_at": ("updated_at",), "status": ("approval", "status")}
    for k in reversed(keys):
        desc = k.startswith("-")
        path = paths.get(k.lstrip("-+"))
        if path is None:
            raise v2_error(400, "Invalid sort field %r" % k.lstrip("-+"))

        def kf(r, path=path):
            v = r
            for p in path:
                v = v[p]
            return v
        allr.sort(key=kf, reverse=desc)
    return allr


def h_v2_attendance_periods(ctx: Ctx):
    c = ctx.company
    limit = v2_limit(ctx, 100, 100)
    f = _att_filters(ctx)
    cur = ctx.get("cursor")
    state = tuple(decode_cursor(cur)[:2]) if cur else (0, 0)
    if "sort" in f:
        # non-default sort: materialized once per (filters, data version), then sliced per page
        allr = memo(ctx, lambda: _att_sorted(c, f))
        off = state[0] if cur else 0
        chunk = allr[off:off + limit]
        nxt = (off + limit, 0) if off + limit < len(allr) else None
        recs = chunk
    else:
        recs, nxt = attendance_page(c, f, state, limit)
    return 200, {"_data": recs, "_meta": {"links": _links(ctx, nxt, ctx.relative_attendance_links)}}


def h_v2_attendance_period(ctx: Ctx):
    c = ctx.company
    pj = D.Attendance.parse_id(ctx.match["id"])
    r = None
    if pj and 0 <= pj[0] < len(c.person_order) and c.person_order[pj[0]] in c.employees:
        r = c.attendance.record(*pj)
        if r is not None and r["id"] != ctx.match["id"]:
            r = None
    if r is None:
        raise v2_error(404, "The requested attendance period was not found")
    return 200, r


def _simple_filter(ctx: Ctx, items, fields: dict):
    for param, key in fields.items():
        vals = ctx.getlist(param)
        if vals:
            items = [x for x in items if str(key(x)) in vals]
    return items


def _sorted_param(ctx: Ctx, items, allowed=("name", "id"), default="id"):
    s = ctx.get("sort") or default
    desc = s.startswith("-")
    k = s.lstrip("-+")
    if k not in allowed:
        raise v2_error(400, "Invalid sort field %r" % k)
    if k == "id":
        return sorted(items, key=lambda x: (len(x["id"]), x["id"]), reverse=desc)
    return sorted(items, key=lambda x: (x[k], x["id"]), reverse=desc)


def h_v2_projects(ctx: Ctx):
    items = _simple_filter(ctx, ctx.company.projects, {"id": lambda p: p["id"], "name": lambda p: p["name"],
                                                      "status": lambda p: p["status"],
                                                      "project_code": lambda p: p["project_code"],
                                                      "parent_project.id": lambda p: p["parent_id"]})
    if (ctx.get("top_level_only") or "").lower() == "true":
        items = [p for p in items if not p["parent_id"]]
    return v2_list(ctx, items, v2_project, 100, 100)


def h_v2_project(ctx: Ctx):
    p = next((p for p in ctx.company.projects if p["id"] == ctx.match["id"]), None)
    if p is None:
        raise v2_error(404, "The requested project was not found")
    return 200, v2_project(p)


def v2_legal_entity(le: dict) -> dict:
    return {"id": le["id"], "name": le["name"], "country": le["country"], "valid_from": day_str(le["created_ts"]),
            "created_at": iso_z(le["created_ts"]), "updated_at": iso_z(le["created_ts"])}


def h_v2_legal_entities(ctx: Ctx):
    items = sorted(ctx.company.legal_entities, key=lambda x: (-x["created_ts"], x["id"]))  # newest first
    items = _simple_filter(ctx, items, {"id": lambda x: x["id"], "country": lambda x: x["country"]})
    return v2_list(ctx, items, v2_legal_entity, 100, 20)


def h_v2_legal_entity(ctx: Ctx):
    le = next((x for x in ctx.company.legal_entities if x["id"] == ctx.match["id"]), None)
    if le is None:
        raise v2_error(404, "The requested legal entity was not found")
    return 200, v2_legal_entity(le)


def h_v2_org_units(ctx: Ctx):
    t = ctx.get("type")
    if not t:
        raise v2_error(400, "Required query parameter 'type' is missing (one of: department, team)")
    if t not in ("department", "team"):
        raise v2_error(400, "Invalid type %r (one of: department, team)" % t)
    chain = (ctx.get("include_parent_chain") or "false").lower() == "true"
    items = [u for u in ctx.company.org_units if u["type"] == t]
    items = _sorted_param(ctx, items)
    return v2_list(ctx, items, lambda u: v2_org_unit(ctx.company, u, chain), 100, 50)


def h_v2_org_unit(ctx: Ctx):
    u = _org(ctx.company, ctx.match["id"])
    if u is None:
        raise v2_error(404, "The requested org unit was not found")
    return 200, v2_org_unit(ctx.company, u, (ctx.get("include_parent_chain") or "").lower() == "true")


def h_v2_cost_centers(ctx: Ctx):
    items = _simple_filter(ctx, ctx.company.cost_centers, {"id": lambda x: x["id"], "name": lambda x: x["name"]})
    items = _sorted_param(ctx, items)
    return v2_list(ctx, items, lambda x: {"id": x["id"], "name": x["name"]}, 100, 50)


def h_v2_workplaces(ctx: Ctx):
    items = _simple_filter(ctx, ctx.company.workplaces, {"id": lambda x: x["id"], "name": lambda x: x["name"]})
    items = _sorted_param(ctx, items)
    return v2_list(ctx, items, lambda x: {"id": x["id"], "name": x["name"], "address": {"country": x["country"]}}, 100, 50)


# --- compensations: generated per month
def _month_bounds(ts: int) -> tuple[int, int]:
    d = _dt.datetime.fromtimestamp(ts, _dt.timezone.utc)
    start = _dt.datetime(d.year, d.month, 1, tzinfo=_dt.timezone.utc)
    nm = _dt.datetime(d.year + (d.month == 12), d.month % 12 + 1, 1, tzinfo=_dt.timezone.utc)
    return int(start.timestamp()), int(nm.timestamp()) - DAY


def compensation_items(c: D.Company, start: int, end: int) -> list[tuple[tuple, dict]]:
    """(key, record) of every compensation item with an effective date in [start, end]: the generated monthly
    items (key (employee id, month start, type index)) with their changes (``Company.comp_overrides``) and
    the back-dated created ones (``Company.comp_extra``, key ("x", id))."""
    out = []
    types = c.compensation_types
    m_start, _ = _month_bounds(start)
    months = []
    t = m_start
    while t <= end:
        ms, me = _month_bounds(t)
        months.append((ms, me))
        t = me + DAY
    overrides = c.comp_overrides
    extra: dict[int, list[dict]] = {}
    for x in c.comp_extra:
        if start <= x["effective_ts"] <= end:
            extra.setdefault(x["employee_id"], []).append(x)
    for eid in c.person_order:
        e = c.employees.get(eid)
        if e is None:
            continue
        # created items are listed with their person's others (list order is not documented)
        for x in extra.get(eid, ()):
            ctype = types[x["type_index"]]
            out.append((("x", x["id"]), {"id": x["id"], "person": {"id": str(eid)},
                                         "legal_entity": {"id": e["legal_entity_id"]}, "type": {"id": ctype["id"]},
                                         "value": {"amount": x["amount"], "currency": "EUR"}, "interval": "ONE_TIME",
                                         "effective_date": day_str(x["effective_ts"]),
                                         "created_at": iso_z(x["created_ts"]), "updated_at": iso_z(x["updated_ts"])}))
        for ms, me in months:
            if e["hire_ts"] > me or (e["term_ts"] and e["term_ts"] < ms):
                continue
            eff = max(ms, e["hire_ts"] - e["hire_ts"] % DAY)
            if eff < start or eff > end:
                continue
            ym = day_str(ms)[:7].replace("-", "")
            salary, changed = D.salary_at(e, ms)
            # stable per record; moves only when the salary in force for this month is changed (mutate)
            created = max(e["created_ts"], min(ms - 5 * DAY, D.BASE_EPOCH - 3600))
            updated = max(created, changed) if changed else created
            recs = [(0, salary)]
            if day_str(ms)[5:7] in ("03", "12") and D._mix(c.seed, eid, ms) % 3 == 0:
                recs.append((2, round(salary * 0.5)))
            for ti, amount in recs:
                key = (eid, ms, ti)
                upd = updated
                if key in overrides:
                    ov = overrides[key]
                    if ov is None:
                        continue  # deleted: a removed item simply stops appearing (§10.5)
                    amount, upd = ov["amount"], max(upd, ov["updated_ts"])
                ctype = types[ti]
                out.append((key, {"id": "%s-%d-%s" % (ym, eid, ctype["id"][:8]), "person": {"id": str(eid)},
                                  "legal_entity": {"id": e["legal_entity_id"]}, "type": {"id": ctype["id"]},
                                  "value": {"amount": amount, "currency": "EUR"},
                                  "interval": "MONTHLY" if ti == 0 else "ONE_TIME", "effective_date": day_str(eff),
                                  "created_at": iso_z(created), "updated_at": iso_z(upd)}))
    return out


def compensations_for(c: D.Company, start: int, end: int) -> list[dict]:
    return [r for _k, r in compensation_items(c, start, end)]


def h_v2_compensations(ctx: Ctx):
    c = ctx.company
    sd, ed = ctx.get("start_date"), ctx.get("end_date")
    if not sd and not ed:
        start, end = _month_bounds(c.now())
    else:
        start = parse_date(sd, _v2_bad) if sd else None
        end = parse_date(ed, _v2_bad) if ed else None
        if start is None:
            start = end - 30 * DAY
        if end is None:
            end = start + 30 * DAY
        if end < start:
            raise v2_error(400, "end_date must not be before start_date")
        if end - start > 31 * DAY or _month_delta(start, end) > 1:
            raise v2_error(400, "The date range between start_date and end_date must not exceed one month")
    v2_limit(ctx, 100, 100)
    items = memo(ctx, lambda: _simple_filter(ctx, compensations_for(c, start, end), {
        "person.id": lambda x: x["person"]["id"], "legal_entity.id": lambda x: x["legal_entity"]["id"]}))
    return v2_list(ctx, items, lambda x: x, 100, 100)


def _month_delta(a: int, b: int) -> int:
    """1 if b is on or after the same day one calendar month after a, else 0."""
    da = _dt.datetime.fromtimestamp(a, _dt.timezone.utc)
    y, m = da.year + (da.month == 12), da.month % 12 + 1
    import calendar
    nxt = _dt.datetime(y, m, min(da.day, calendar.monthrange(y, m)[1]), tzinfo=_dt.timezone.utc)
    return 2 if b >= int(nxt.timestamp()) else 0


def h_v2_compensation_types(ctx: Ctx):
    return v2_list(ctx, ctx.company.compensation_types, lambda t: {"id": t["id"], "name": t["name"],
                                                                    "category": t["category"]}, 100, 100)


# --- recruiting: newest (last updated) first
def _newest_first(items):
    return sorted(items, key=lambda x: (-x["updated_ts"], x["id"]))


def _recruiting_updated(ctx: Ctx, items, exclusive: bool):
    gt, lt = ctx.get("updated_at.gt"), ctx.get("updated_at.lt")
    if exclusive and gt and lt:
        raise v2_error(400, "The filters updated_at.gt and updated_at.lt are mutually exclusive")
    return _ts_filters(ctx, "updated_at", ("gt", "lt"), items, lambda x: x["updated_ts"])


def h_v2_candidates(ctx: Ctx):
    c = ctx.company
    ensure_indexes(c)
    items = _recruiting_updated(ctx, _newest_first(c.candidates), True)
    em = ctx.get("email")
    if em:
        items = [x for x in items if x["email"].lower() == em.lower()]
    return v2_list(ctx, items, lambda x: _cand_render(c, x), 200, 100)


def h_v2_candidate(ctx: Ctx):
    c = ctx.company
    ensure_indexes(c)
    x = c._cand_idx.get(ctx.match["id"])
    if x is None:
        raise v2_error(404, "The requested candidate was not found")
    return 200, _cand_render(c, x)


def h_v2_applications(ctx: Ctx):
    c = ctx.company
    ensure_indexes(c)
    items = _recruiting_updated(ctx, _newest_first(c.applications), False)
    em = ctx.get("candidate.email")
    if em:
        items = [x for x in items if c._cand_idx[x["candidate_id"]]["email"].lower() == em.lower()]
    return v2_list(ctx, items, lambda x: _app_render(c, x), 200, 100)


def _application(ctx: Ctx) -> dict:
    c = ctx.company
    ensure_indexes(c)
    x = c._app_idx.get(ctx.match["id"])
    if x is None:
        raise v2_error(404, "The requested application was not found")
    return x


def h_v2_application(ctx: Ctx):
    return 200, _app_render(ctx.company, _application(ctx))


def h_v2_stage_transitions(ctx: Ctx):
    a = _application(ctx)
    items = [{"entered_at": iso_z(t["ts"]), "stage": dict(t["stage"], type=t["stage"]["kind"])}
             for t in reversed(a["transitions"])]  # latest first
    return v2_list(ctx, items, lambda x: x, 200, 100)


def h_v2_jobs(ctx: Ctx):
    c = ctx.company
    items = _recruiting_updated(ctx, _newest_first(c.jobs), False)
    return v2_list(ctx, items, lambda j: _job_render(c, j), 200, 100)


def h_v2_job(ctx: Ctx):
    j = next((j for j in ctx.company.jobs if j["id"] == ctx.match["id"]), None)
    if j is None:
        raise v2_error(404, "The requested job was not found")
    return 200, _job_render(ctx.company, j)


def _cat_render(x):
    return {"id": x["id"], "name": x["name"], "stages": [dict(s, type=s["kind"]) for s in x["stages"]],
            "company": {"id": "1"}}


def h_v2_categories(ctx: Ctx):
    return v2_list(ctx, ctx.company.recruiting_categories, _cat_render, 200, 100)


def h_v2_category(ctx: Ctx):
    x = next((x for x in ctx.company.recruiting_categories if x["id"] == ctx.match["id"]), None)
    if x is None:
        raise v2_error(404, "The requested category was not found")
    return 200, _cat_render(x)


# ------------------------------------------------------------------ routing
# (template, handler, api, scope, list_kind) ; api in v1|v2 ; list_kind: None | 'v1' | 'v2' | 'v1page' | 'report'
ROUTES = [
    ("/v1/company/employees", h_v1_employees, "v1", "personio:persons:read", "v1"),
    ("/v1/company/employees/attributes", h_v1_attributes, "v1", "personio:persons:read", None),
    ("/v1/company/employees/custom-attributes", h_v1_attributes, "v1", "personio:persons:read", None),
    ("/v1/company/employees/{employee_id}", h_v1_employee, "v1", "personio:persons:read", None),
    ("/v1/company/employees/{employee_id}/absences/balance", h_v1_balance, "v1", "personio:absences:read", "v1flat"),
    ("/v1/company/time-off-types", h_v1_time_off_types, "v1", "personio:absences:read", "v1flat"),
    ("/v1/company/time-offs", h_v1_time_offs, "v1", "personio:absences:read", "v1page"),
    ("/v1/company/time-offs/{id}", h_v1_time_off, "v1", "personio:absences:read", None),
    ("/v1/company/absence-periods", h_v1_absence_periods, "v1", "personio:absences:read", "v1page"),
    ("/v1/company/document-categories", h_v1_document_categories, "v1", None, "v1flat"),
    ("/v1/company/custom-reports/reports", h_v1_reports, "v1", None, "v1flat"),
    ("/v1/company/custom-reports/reports/{report_id}", h_v1_report, "v1", None, "report"),
    ("/v1/company/custom-reports/columns", h_v1_report_columns, "v1", None, None),
    ("/v1/company/attendances", h_v1_switched_off, "v1", None, None),
    ("/v1/company/attendances/projects", h_v1_switched_off, "v1", None, None),
    ("/v1/company/attendances/{id}", h_v1_switched_off, "v1", None, None),
    ("/v1/company/attendances/projects/{id}", h_v1_switched_off, "v1", None, None),
    ("/v2/persons", h_v2_persons, "v2", "personio:persons:read", "v2"),
    ("/v2/persons/{id}", h_v2_person, "v2", "personio:persons:read", None),
    ("/v2/persons/{person_id}/employments", h_v2_employments, "v2", "personio:employments:read", "v2"),
    ("/v2/persons/{person_id}/employments/{id}", h_v2_employment, "v2", "personio:employments:read", None),
    ("/v2/absence-types", h_v2_absence_types, "v2", "personio:absences:read", "v2"),
    ("/v2/absence-types/{id}", h_v2_absence_type, "v2", "personio:absences:read", None),
    ("/v2/absence-periods", h_v2_absence_periods, "v2", "personio:absences:read", "v2"),
    ("/v2/absence-periods/{id}", h_v2_absence_period, "v2", "personio:absences:read", None),
    ("/v2/absence-periods/{id}/breakdowns", h_v2_breakdowns, "v2", "personio:absences:read", "v2"),
    ("/v2/attendance-periods", h_v2_attendance_periods, "v2", "personio:attendances:read", "v2"),
    ("/v2/attendance-periods/{id}", h_v2_attendance_period, "v2", "personio:attendances:read", None),
    ("/v2/projects", h_v2_projects, "v2", "personio:projects:read", "v2"),
    ("/v2/projects/{id}", h_v2_project, "v2", "personio:projects:read", None),
    ("/v2/legal-entities", h_v2_legal_entities, "v2", "personio:legal-entities:read", "v2"),
    ("/v2/legal-entities/{id}", h_v2_legal_entity, "v2", "personio:legal-entities:read", None),
    ("/v2/org-units", h_v2_org_units, "v2", "personio:org-units:read", "v2"),
    ("/v2/org-units/{id}", h_v2_org_unit, "v2", "personio:org-units:read", None),
    ("/v2/cost-centers", h_v2_cost_centers, "v2", "personio:cost-centers:read", "v2"),
    ("/v2/workplaces", h_v2_workplaces, "v2", "personio:workplaces:read", "v2"),
    ("/v2/compensations", h_v2_compensations, "v2", "personio:compensations:read", "v2"),
    ("/v2/compensations/types", h_v2_compensation_types, "v2", "personio:compensations:read", "v2"),
    ("/v2/recruiting/candidates", h_v2_candidates, "v2", "personio:recruiting:read", "v2"),
    ("/v2/recruiting/candidates/{id}", h_v2_candidate, "v2", "personio:recruiting:read", None),
    ("/v2/recruiting/applications", h_v2_applications, "v2", "personio:recruiting:read", "v2"),
    ("/v2/recruiting/applications/{id}", h_v2_application, "v2", "personio:recruiting:read", None),
    ("/v2/recruiting/applications/{id}/stage-transitions", h_v2_stage_transitions, "v2", "personio:recruiting:read", "v2"),
    ("/v2/recruiting/jobs", h_v2_jobs, "v2", "personio:recruiting:read", "v2"),
    ("/v2/recruiting/jobs/{id}", h_v2_job, "v2", "personio:recruiting:read", None),
    ("/v2/recruiting/categories", h_v2_categories, "v2", "personio:recruiting:read", "v2"),
    ("/v2/recruiting/categories/{id}", h_v2_category, "v2", "personio:recruiting:read", None),
]


@dataclass
class Route:
    template: str
    handler: object
    api: str
    scope: str | None
    list_kind: str | None
    regex: re.Pattern | None


_STATIC: dict[str, Route] = {}
_DYNAMIC: list[Route] = []
for _t, _h, _api, _s, _k in ROUTES:
    if "{" in _t:
        rx = re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", _t) + "$")
        _DYNAMIC.append(Route(_t, _h, _api, _s, _k, rx))
    else:
        _STATIC[_t] = Route(_t, _h, _api, _s, _k, None)


def match(path: str) -> tuple[Route | None, dict]:
    r = _STATIC.get(path)
    if r is not None:
        return r, {}
    for r in _DYNAMIC:
        m = r.regex.match(path)
        if m:
            return r, m.groupdict()
    return None, {}


def parse_query(qs: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for k, v in parse_qsl(qs, keep_blank_values=True):
        out.setdefault(k, []).append(v)
    return out


def render(company: D.Company, path: str, params=None, cred: Credential = FULL,
           base_url: str = "http://127.0.0.1", relative_attendance_links: bool = False, strict_booleans: bool = False):
    """Return (status, body) for GET path (``path`` may carry a query string; ``params`` a dict)."""
    if "?" in path:
        path, qs = path.split("?", 1)
        q = parse_query(qs)
    else:
        q = {}
    for k, v in (params or {}).items():
        q[k] = v if isinstance(v, list) else [str(v)]
    route, m = match(path)
    if route is None:
        return 404, ({"success": False, "error": {"code": 404, "message": "Not found"}} if path.startswith("/v1")
                     else problem_body(404, "The requested resource was not found"))
    ctx = Ctx(company, path, q, cred, base_url, relative_attendance_links, m, strict_booleans)
    try:
        return route.handler(ctx)
    except ApiError as e:
        return e.status, e.body


def records_of(body, list_kind: str | None):
    if list_kind in ("v1", "v1page", "v1flat"):
        return body["data"]
    if list_kind == "report":
        return body["data"][0]["attributes"]["items"]
    if list_kind == "v2":
        return body["_data"]
    return body.get("data") if isinstance(body, dict) else body


def dataset(company: D.Company, path: str, cred: Credential = FULL, base_url: str = "http://127.0.0.1",
            strict_booleans: bool = False) -> list:
    """Complete ground truth of a list path (default filters/page sizes), as served across all pages
    (``strict_booleans`` as the server's ``--spec-strict-booleans``)."""

    p, _, qs = path.partition("?")
    route, _m = match(p)
    if route is None or route.list_kind is None:
        raise ValueError("not a list path: %s" % p)
    q = parse_query(qs)
    out = []
    kind = route.list_kind
    # page sizes the connector does not use (it asks for 100 / 200), so that this ground truth does not share
    # a page boundary with a connector's read; /_sandbox/truth does not page at all
    if kind == "v1":
        q.pop("offset", None)
        q["limit"] = ["97"]
        if "updated_since" in q:
            q["limit"] = ["199"]
        off = 0
        while True:
            q["offset"] = [str(off)]
            st, body = render(company, p, {k: v for k, v in q.items()}, cred, base_url, strict_booleans=strict_booleans)
            if st != 200:
                raise ValueError(body)
            out.extend(body["data"])
            off += int(q["limit"][0])
            if off >= body["metadata"]["total_elements"]:
                return out
    if kind == "v1flat":
        q.pop("offset", None)
        q["limit"] = ["1000000"]
        st, body = render(company, p, q, cred, base_url, strict_booleans=strict_booleans)
        if st != 200:
            raise ValueError(body)
        return body["data"]
    if kind in ("v1page", "report"):
        key = "offset" if kind == "v1page" else "page"
        q.pop(key, None)
        q["limit"] = ["197"] if kind == "v1page" else ["997"]
        page = 1
        while True:
            q[key] = [str(page)]
            st, body = render(company, p, q, cred, base_url, strict_booleans=strict_booleans)
            if st != 200:
                raise ValueError(body)
            out.extend(records_of(body, kind))
            if page >= body["metadata"]["total_pages"]:
                return out
            page += 1
    # v2
    q.pop("cursor", None)
    while True:
        st, body = render(company, p, q, cred, base_url, strict_booleans=strict_booleans)
        if st != 200:
            raise ValueError(body)
        out.extend(body["_data"])
        nxt = body["_meta"]["links"].get("next")
        if not nxt:
            return out
        q = parse_query(urlsplit(nxt["href"]).query)
