"""The routing table: every served path template, its handler, API flavour, scope and list kind."""
from __future__ import annotations

import re
from dataclasses import dataclass

from .resources import (absences, attendances, compensations, documents, employees, org, persons, projects,
                        recruiting, reports_v1, reports_v2, time_offs)


# (template, handler, api, scope, list_kind) ; api in v1|v2 ; list_kind: None | 'v1' | 'v1flat' | 'v1page' |
# 'report' (v1 report rows) | 'v2' (next: {href}) | 'v2plain' (Report API v2: next is a plain string)
ROUTES = [
    ("/v1/company/employees", employees.h_v1_employees, "v1", "personio:persons:read", "v1"),
    ("/v1/company/employees/attributes", employees.h_v1_attributes, "v1", "personio:persons:read", None),
    ("/v1/company/employees/custom-attributes", employees.h_v1_attributes, "v1", "personio:persons:read", None),
    ("/v1/company/employees/{employee_id}", employees.h_v1_employee, "v1", "personio:persons:read", None),
    ("/v1/company/employees/{employee_id}/absences/balance", employees.h_v1_balance, "v1", "personio:absences:read", "v1flat"),
    ("/v1/company/time-off-types", time_offs.h_v1_time_off_types, "v1", "personio:absences:read", "v1flat"),
    ("/v1/company/time-offs", time_offs.h_v1_time_offs, "v1", "personio:absences:read", "v1page"),
    ("/v1/company/time-offs/{id}", time_offs.h_v1_time_off, "v1", "personio:absences:read", None),
    ("/v1/company/absence-periods", time_offs.h_v1_absence_periods, "v1", "personio:absences:read", "v1page"),
    ("/v1/company/document-categories", documents.h_v1_document_categories, "v1", None, "v1flat"),
    ("/v1/company/custom-reports/reports", reports_v1.h_v1_reports, "v1", None, "v1flat"),
    ("/v1/company/custom-reports/reports/{report_id}", reports_v1.h_v1_report, "v1", None, "report"),
    ("/v1/company/custom-reports/columns", reports_v1.h_v1_report_columns, "v1", None, None),
    ("/v1/company/attendances", attendances.h_v1_switched_off, "v1", None, None),
    ("/v1/company/attendances/projects", attendances.h_v1_switched_off, "v1", None, None),
    ("/v1/company/attendances/{id}", attendances.h_v1_switched_off, "v1", None, None),
    ("/v1/company/attendances/projects/{id}", attendances.h_v1_switched_off, "v1", None, None),
    ("/v2/persons", persons.h_v2_persons, "v2", "personio:persons:read", "v2"),
    ("/v2/persons/{id}", persons.h_v2_person, "v2", "personio:persons:read", None),
    ("/v2/persons/{person_id}/employments", persons.h_v2_employments, "v2", "personio:employments:read", "v2"),
    ("/v2/persons/{person_id}/employments/{id}", persons.h_v2_employment, "v2", "personio:employments:read", None),
    ("/v2/absence-types", absences.h_v2_absence_types, "v2", "personio:absences:read", "v2"),
    ("/v2/absence-types/{id}", absences.h_v2_absence_type, "v2", "personio:absences:read", None),
    ("/v2/absence-periods", absences.h_v2_absence_periods, "v2", "personio:absences:read", "v2"),
    ("/v2/absence-periods/{id}", absences.h_v2_absence_period, "v2", "personio:absences:read", None),
    ("/v2/absence-periods/{id}/breakdowns", absences.h_v2_breakdowns, "v2", "personio:absences:read", "v2"),
    ("/v2/attendance-periods", attendances.h_v2_attendance_periods, "v2", "personio:attendances:read", "v2"),
    ("/v2/attendance-periods/{id}", attendances.h_v2_attendance_period, "v2", "personio:attendances:read", None),
    ("/v2/projects", projects.h_v2_projects, "v2", "personio:projects:read", "v2"),
    ("/v2/projects/{id}", projects.h_v2_project, "v2", "personio:projects:read", None),
    ("/v2/legal-entities", org.h_v2_legal_entities, "v2", "personio:legal-entities:read", "v2"),
    ("/v2/legal-entities/{id}", org.h_v2_legal_entity, "v2", "personio:legal-entities:read", None),
    ("/v2/org-units", org.h_v2_org_units, "v2", "personio:org-units:read", "v2"),
    ("/v2/org-units/{id}", org.h_v2_org_unit, "v2", "personio:org-units:read", None),
    ("/v2/cost-centers", org.h_v2_cost_centers, "v2", "personio:cost-centers:read", "v2"),
    ("/v2/workplaces", org.h_v2_workplaces, "v2", "personio:workplaces:read", "v2"),
    ("/v2/compensations", compensations.h_v2_compensations, "v2", "personio:compensations:read", "v2"),
    ("/v2/compensations/types", compensations.h_v2_compensation_types, "v2", "personio:compensations:read", "v2"),
    ("/v2/recruiting/candidates", recruiting.h_v2_candidates, "v2", "personio:recruiting:read", "v2"),
    ("/v2/recruiting/candidates/{id}", recruiting.h_v2_candidate, "v2", "personio:recruiting:read", None),
    ("/v2/recruiting/applications", recruiting.h_v2_applications, "v2", "personio:recruiting:read", "v2"),
    ("/v2/recruiting/applications/{id}", recruiting.h_v2_application, "v2", "personio:recruiting:read", None),
    ("/v2/recruiting/applications/{id}/stage-transitions", recruiting.h_v2_stage_transitions, "v2", "personio:recruiting:read", "v2"),
    ("/v2/recruiting/jobs", recruiting.h_v2_jobs, "v2", "personio:recruiting:read", "v2"),
    ("/v2/recruiting/jobs/{id}", recruiting.h_v2_job, "v2", "personio:recruiting:read", None),
    ("/v2/recruiting/categories", recruiting.h_v2_categories, "v2", "personio:recruiting:read", "v2"),
    ("/v2/recruiting/categories/{id}", recruiting.h_v2_category, "v2", "personio:recruiting:read", None),
    # Report API v2 (§10.1): no Personio file names a scope for it; the reports right is a tenant gate
    ("/v2/reports", reports_v2.h_v2_reports, "v2", None, "v2plain"),
    ("/v2/reports/attributes", reports_v2.h_v2_report_attributes, "v2", None, None),
    ("/v2/reports/{id}", reports_v2.h_v2_report, "v2", None, "v2plain"),
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


def all_routes() -> list[Route]:
    """Every route, in table order."""
    by = {r.template: r for r in list(_STATIC.values()) + _DYNAMIC}
    return [by[t] for t, *_rest in ROUTES]


def match(path: str) -> tuple[Route | None, dict]:
    r = _STATIC.get(path)
    if r is not None:
        return r, {}
    for r in _DYNAMIC:
        m = r.regex.match(path)
        if m:
            return r, m.groupdict()
    return None, {}
