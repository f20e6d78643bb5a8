"""Ground truth straight from the data model: every record that exists now, rendered as the API renders
it, in the order its list serves it, with no paging, page size or filter involved (``GET
/_sandbox/truth/<resource>``). Unlike ``api.dataset`` (which pages through the list endpoint), nothing
here goes through a list handler, so a paging bug can not hide in both the sandbox's truth and a read.

Records of per-parent endpoints carry their parent's id as an extra key: balances ``employee_id``,
breakdowns ``absence_period_id``, stage transitions ``application_id``, custom report rows
``report_id`` (employments and compensations name their person already).
"""
from __future__ import annotations

from . import api as A
from . import data as D


def _employees(c, q, cred, base, strict):
    return [A.v1_employee(c, e, cred.attributes) for e in c.listed_employees()]


def _persons(c, q, cred, base, strict):
    return [A.v2_person(c, e, base) for e in c.listed_employees()]


def _employments(c, q, cred, base, strict):
    out = []
    for e in c.listed_employees():
        for m in sorted(e["employments"], key=lambda m: (-m["updated_ts"], m["id"])):
            out.append(A.v2_employment(c, e, m, base))
    return out


def _absences(c, q, cred, base, strict):
    return [A.v1_time_off(c, a, cred.attributes, strict) for a in c.absences.values() if a["unit"] == "day"]


def _absence_periods_v1(c, q, cred, base, strict):
    return [A.v1_absence_period(c, a, cred.attributes) for a in c.absences.values() if a["unit"] == "hour"]


def _absence_periods(c, q, cred, base, strict):
    return [A.v2_absence_period(c, a) for a in sorted(c.absences.values(), key=lambda a: a["uuid"])]


def _breakdowns(c, q, cred, base, strict):
    return [dict(x, absence_period_id=a["uuid"]) for a in sorted(c.absences.values(), key=lambda a: a["uuid"])
            for x in A.v2_breakdowns(a)]


def _balances(c, q, cred, base, strict):
    return [dict(b, employee_id=e["id"]) for e in c.listed_employees() for b in A.employee_balance(c, e["id"])]


def _attendance(c, q, cred, base, strict):
    f = {}
    if q.get("person.id"):
        f["person"] = set(q["person.id"].split(","))
    out, st = [], (0, 0)
    while st is not None:
        recs, st = A.attendance_page(c, f, st, 100000)
        out.extend(recs)
    return out


def _month_range(c, q):
    if q.get("start_date"):
        start = D.day_epoch(q["start_date"])
    else:
        alive = [e["hire_ts"] for e in c.employees.values()]
        start = D.month_start(min(alive)) if alive else D.month_start(c.now())
    end = D.day_epoch(q["end_date"]) if q.get("end_date") else A._month_bounds(c.now())[1]
    return start, end


def _compensations(c, q, cred, base, strict):
    start, end = _month_range(c, q)
    return A.compensations_for(c, start, end)


def _projects(c, q, cred, base, strict):
    return [A.v2_project(p) for p in c.projects]


def _candidates(c, q, cred, base, strict):
    A.ensure_indexes(c)
    return [A._cand_render(c, x) for x in A._newest_first(c.candidates)]


def _applications(c, q, cred, base, strict):
    A.ensure_indexes(c)
    return [A._app_render(c, x) for x in A._newest_first(c.applications)]


def _stage_transitions(c, q, cred, base, strict):
    return [{"entered_at": D.iso_z(t["ts"]), "stage": dict(t["stage"], type=t["stage"]["kind"]),
             "application_id": a["id"]}
            for a in A._newest_first(c.applications) for t in reversed(a["transitions"])]


def _jobs(c, q, cred, base, strict):
    A.ensure_indexes(c)
    return [A._job_render(c, j) for j in A._newest_first(c.jobs)]


def _categories(c, q, cred, base, strict):
    return [A._cat_render(x) for x in c.recruiting_categories]


def _time_off_types(c, q, cred, base, strict):
    return [A.v1_time_off_type(t) for t in c.time_off_types]


def _v2_absence_types(c, q, cred, base, strict):
    return [A.v2_absence_type(t) for t in c.time_off_types]


def _document_categories(c, q, cred, base, strict):
    return [{"id": d["id"], "type": "DocumentCategory", "attributes": {"name": d["name"]}}
            for d in c.document_categories]


def _custom_reports(c, q, cred, base, strict):
    return [{"type": "Report", "attributes": A._report_meta(c, r)} for r in c.reports]


def _custom_report_rows(c, q, cred, base, strict):
    return [dict(row, report_id=r["id"]) for r in c.reports for row in A.report_rows(c, r)]


def _employee_attributes(c, q, cred, base, strict):
    ctx = A.Ctx(c, "/v1/company/employees/attributes", {}, cred, base)
    return A.h_v1_attributes(ctx)[1]["data"]


def _legal_entities(c, q, cred, base, strict):
    return [A.v2_legal_entity(x) for x in sorted(c.legal_entities, key=lambda x: (-x["created_ts"], x["id"]))]


def _org_units(c, q, cred, base, strict):
    units = c.org_units if not q.get("type") else [u for u in c.org_units if u["type"] == q["type"]]
    return [A.v2_org_unit(c, u, False) for u in _by_id(units)]


def _cost_centers(c, q, cred, base, strict):
    return [{"id": x["id"], "name": x["name"]} for x in _by_id(c.cost_centers)]


def _workplaces(c, q, cred, base, strict):
    return [{"id": x["id"], "name": x["name"], "address": {"country": x["country"]}} for x in _by_id(c.workplaces)]


def _by_id(items):
    return sorted(items, key=lambda x: (len(x["id"]), x["id"]))  # the lists' default sort (id)


def _compensation_types(c, q, cred, base, strict):
    return [{"id": t["id"], "name": t["name"], "category": t["category"]} for t in c.compensation_types]


TRUTH = {
    "employees": _employees, "persons": _persons, "employments": _employments,
    "absences": _absences, "time_offs": _absences, "absence_periods": _absence_periods,
    "absence_periods_v1": _absence_periods_v1, "breakdowns": _breakdowns,
    "absence_period_breakdowns": _breakdowns, "balances": _balances, "employees_absences_balance": _balances,
    "attendance_periods": _attendance, "attendances": _attendance, "projects": _projects,
    "compensations": _compensations, "compensation_types": _compensation_types,
    "candidates": _candidates, "recruiting_candidates": _candidates,
    "applications": _applications, "recruiting_applications": _applications,
    "stage_transitions": _stage_transitions, "recruiting_application_stage_transitions": _stage_transitions,
    "jobs": _jobs, "recruiting_jobs": _jobs, "recruiting_categories": _categories,
    "time_off_types": _time_off_types, "absence_types": _time_off_types, "v2_absence_types": _v2_absence_types,
    "document_categories": _document_categories, "custom_reports": _custom_reports,
    "custom_reports_list": _custom_reports, "custom_report_rows": _custom_report_rows,
    "employee_attributes": _employee_attributes, "legal_entities": _legal_entities, "org_units": _org_units,
    "cost_centers": _cost_centers, "workplaces": _workplaces,
}


def truth(c: D.Company, resource: str, query: dict | None = None, cred: A.Credential = A.FULL,
          base_url: str = "http://127.0.0.1", strict_booleans: bool = False) -> list:
    """Every record of ``resource`` that exists now (see the module docstring); ``query`` options:
    ``person.id`` (attendance), ``start_date``/``end_date`` (compensations; default from the earliest hire
    month to the end of the current month), ``type`` (org units)."""
    fn = TRUTH.get(resource)
    if fn is None:
        raise KeyError("unknown truth resource %r (known: %s)" % (resource, sorted(TRUTH)))
    with c.lock:
        return fn(c, dict(query or {}), cred, base_url, strict_booleans)
