"""Ground truth straight from the data model: every record that exists now, rendered as the API renders
it, in the order its list serves it, with no paging, page size or filter involved (``GET
/_sandbox/truth/<resource>``). Unlike ``api.dataset`` (which pages through the list endpoint), nothing
here goes through a list handler, so a paging bug can not hide in both the sandbox's truth and a read.

Records of per-parent endpoints carry their parent's id as an extra key: balances ``employee_id``,
breakdowns ``absence_period_id``, stage transitions ``application_id``, custom report rows
``report_id`` (employments and compensations name their person already).
"""
from __future__ import annotations

from . import data as D
from .auth import FULL, Credential
from .context import ensure_indexes
from .model import month_bounds, shapes_on
from .tenants import unavailable as tenant_unavailable
from .resources import (absences, attendances, compensations, documents, employees, org, persons, projects,
                        recruiting, reports_v1, reports_v2, time_offs)


def _employees(c, q, cred, base, strict):
    return [employees.v1_employee(c, e, cred.attributes) for e in c.listed_employees()]


def _persons(c, q, cred, base, strict):
    return [persons.v2_person(c, e, base, cred.trim_v2) for e in c.listed_employees()]


def _employments(c, q, cred, base, strict):
    out = []
    for e in c.listed_employees():
        for m in persons.employments_in_order(e):
            out.append(persons.v2_employment(c, e, m, base, cred.trim_v2))
    return out


def _absences(c, q, cred, base, strict):
    return [time_offs.v1_time_off(c, a, cred.attributes, strict) for a in c.absences.values() if a["unit"] == "day"]


def _absence_periods_v1(c, q, cred, base, strict):
    return [time_offs.v1_absence_period(c, a, cred.attributes) for a in c.absences.values() if a["unit"] == "hour"]


def _absence_periods(c, q, cred, base, strict):
    return [absences.v2_absence_period(c, a) for a in sorted(c.absences.values(), key=lambda a: a["uuid"])]


def _breakdowns(c, q, cred, base, strict):
    return [dict(x, absence_period_id=a["uuid"]) for a in sorted(c.absences.values(), key=lambda a: a["uuid"])
            for x in absences.v2_breakdowns(a)]


def _balances(c, q, cred, base, strict):
    return [dict(b, employee_id=e["id"]) for e in c.listed_employees() for b in employees.employee_balance(c, e["id"])]


def _attendance(c, q, cred, base, strict):
    f = {}
    if q.get("person.id"):
        f["person"] = set(q["person.id"].split(","))
    out, st = [], (0, 0)
    while st is not None:
        recs, st = attendances.attendance_page(c, f, st, 100000)
        out.extend(recs)
    return out


def _month_range(c, q):
    if q.get("start_date"):
        start = D.day_epoch(q["start_date"])
    else:
        alive = [e["hire_ts"] for e in c.employees.values()]
        start = D.month_start(min(alive)) if alive else D.month_start(c.now())
    end = D.day_epoch(q["end_date"]) if q.get("end_date") else month_bounds(c.now())[1]
    return start, end


def _compensations(c, q, cred, base, strict):
    start, end = _month_range(c, q)
    return compensations.compensations_for(c, start, end)


def _projects(c, q, cred, base, strict):
    return [projects.v2_project(p, c) for p in c.projects]


def _candidates(c, q, cred, base, strict):
    ensure_indexes(c)
    return [recruiting.render_candidate(c, x) for x in recruiting.newest_first(c.candidates)]


def _applications(c, q, cred, base, strict):
    ensure_indexes(c)
    return [recruiting.render_application(c, x) for x in recruiting.newest_first(c.applications)]


def _stage_transitions(c, q, cred, base, strict):
    return [dict(t, application_id=a["id"]) for a in recruiting.newest_first(c.applications)
            for t in recruiting.stage_transitions(c, a)]


def _jobs(c, q, cred, base, strict):
    ensure_indexes(c)
    return [recruiting.render_job(c, j) for j in recruiting.newest_first(c.jobs)]


def _categories(c, q, cred, base, strict):
    return [recruiting.render_category(x) for x in c.recruiting_categories]


def _time_off_types(c, q, cred, base, strict):
    return [time_offs.v1_time_off_type(t, shapes_on(c)) for t in c.time_off_types]


def _v2_absence_types(c, q, cred, base, strict):
    return [absences.v2_absence_type(t) for t in c.time_off_types]


def _document_categories(c, q, cred, base, strict):
    return [documents.document_category(d) for d in c.document_categories]


def _custom_reports(c, q, cred, base, strict):
    return [{"type": "Report", "attributes": reports_v1.report_meta(c, r)} for r in c.reports]


def _custom_report_rows(c, q, cred, base, strict):
    return [dict(row, report_id=r["id"]) for r in c.reports for row in reports_v1.report_rows(c, r)]


def _reports_v2(c, q, cred, base, strict):
    return [reports_v2.v2_report_summary(r) for r in reports_v2.api_reports(c)]


def _report_v2_rows(c, q, cred, base, strict):
    """Every row of every API-enabled report the Report API v2 serves (grouped ones answer 400), as its
    positional cells: ``{"report_id", "row": [cell, ...]}``."""
    return [{"report_id": r["id"], "row": row} for r in reports_v2.api_reports(c) if not r.get("grouped")
            for row in reports_v2.v2_report_rows(c, r)]


def _report_v2_columns(c, q, cred, base, strict):
    return [dict(col, report_id=r["id"]) for r in reports_v2.api_reports(c) if not r.get("grouped")
            for col in reports_v2.report_columns(r, q.get("locale", "en"))]


def _report_v2_attributes(c, q, cred, base, strict):
    return reports_v2.report_attributes(q.get("locale", "en"))


def _employee_attributes(c, q, cred, base, strict):
    return employees.employee_attributes(cred.attributes)


def _legal_entities(c, q, cred, base, strict):
    return [org.v2_legal_entity(x) for x in org.legal_entities_newest_first(c)]


def _org_units(c, q, cred, base, strict):
    units = c.org_units if not q.get("type") else [u for u in c.org_units if u["type"] == q["type"]]
    return [org.v2_org_unit(c, u, False) for u in org.by_id(units)]


def _cost_centers(c, q, cred, base, strict):
    return [org.v2_cost_center(x) for x in org.by_id(c.cost_centers)]


def _workplaces(c, q, cred, base, strict):
    return [org.v2_workplace(x) for x in org.by_id(c.workplaces)]


def _compensation_types(c, q, cred, base, strict):
    return [compensations.v2_compensation_type(t) for t in c.compensation_types]


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
    "reports_v2": _reports_v2, "report_v2_rows": _report_v2_rows, "report_v2_columns": _report_v2_columns,
    "report_v2_attributes": _report_v2_attributes,
}


# the list path whose tenant gate (a module not booked, a right missing) also hides a truth resource
PATHS = {
    "persons": "/v2/persons", "employments": "/v2/persons/{id}/employments",
    "candidates": "/v2/recruiting/candidates", "recruiting_candidates": "/v2/recruiting/candidates",
    "applications": "/v2/recruiting/applications", "recruiting_applications": "/v2/recruiting/applications",
    "stage_transitions": "/v2/recruiting/applications/{id}/stage-transitions",
    "recruiting_application_stage_transitions": "/v2/recruiting/applications/{id}/stage-transitions",
    "jobs": "/v2/recruiting/jobs", "recruiting_jobs": "/v2/recruiting/jobs",
    "recruiting_categories": "/v2/recruiting/categories", "legal_entities": "/v2/legal-entities",
    "custom_reports": "/v1/company/custom-reports/reports", "custom_reports_list": "/v1/company/custom-reports/reports",
    "custom_report_rows": "/v1/company/custom-reports/reports/{report_id}",
    "reports_v2": "/v2/reports", "report_v2_rows": "/v2/reports/{id}", "report_v2_columns": "/v2/reports/{id}",
    "report_v2_attributes": "/v2/reports/attributes",
}


def unavailable(c: D.Company, resource: str, cred: Credential = FULL) -> dict | None:
    """``{"path", "status", "reason"}`` when this tenant / credential can not read ``resource`` (its truth
    is then empty), else None."""
    path = PATHS.get(resource)
    return tenant_unavailable(c, cred, path) if path else None


def truth(c: D.Company, resource: str, query: dict | None = None, cred: Credential = FULL,
          base_url: str = "http://127.0.0.1", strict_booleans: bool = False) -> list:
    """Every record of ``resource`` that exists now (see the module docstring); ``query`` options:
    ``person.id`` (attendance), ``start_date``/``end_date`` (compensations; default from the earliest hire
    month to the end of the current month), ``type`` (org units)."""
    fn = TRUTH.get(resource)
    if fn is None:
        raise KeyError("unknown truth resource %r (known: %s)" % (resource, sorted(TRUTH)))
    if unavailable(c, resource, cred) is not None:
        return []
    with c.lock:
        return fn(c, dict(query or {}), cred, base_url, strict_booleans)
