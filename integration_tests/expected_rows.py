"""Expected table rows of the v1 streams, stated from the sandbox's data model in Personio's documented flat form.

Personio's v1 lists wrap every value (``{"label", "value", "type", "universal_id"}`` per employee attribute,
``{"type": ..., "attributes": {...}}`` per entity). The connector's tables hold the values (README.md "Streams",
docs/personio.md): one column per attribute key, an entity as an object of its fields, ``cost_centers`` and
``absence_entitlement`` as lists of objects, ``tags`` as a list of strings, a salary's currency in
``<key>_currency``. The rows here are written field by field from the records of the sandbox's generator
(``personio_sandbox.data.generate_company``, the company a sandbox with the same seed and size serves before
anything changes it): nothing here unwraps an API response, so a flattening mistake in the connector cannot
be repeated here. Values the sandbox derives (dates in v1 notation, the report period, balances) come from the
sandbox's own model helpers.

Use the generator's rows only against a sandbox nobody has changed (``Sandbox(employees=N, seed=S, tenant=T)``
of the test's own, before any ``mutate``/trigger/churn): ``company(seed, employees, tenant)`` builds the same
company in-process. Rows of changed data are stated from the served record, field by field (end of module).
"""

from __future__ import annotations

import datetime as _dt
import functools
from typing import Any, Dict, List, Optional

from personio_sandbox import data as D
from personio_sandbox.data import BASE_EPOCH, DAY, day_str, iso_offset, iso_offset_nocolon, iso_z
from personio_sandbox.model import CURRENCY_SYMBOL, day_breakdown, employee_currency, num, org_unit
from personio_sandbox.resources.employees import employee_balance
from personio_sandbox.tenants import apply as apply_tenant, parse_tenant


@functools.lru_cache(maxsize=8)
def company(seed: int, employees: int, tenant: Optional[str] = None) -> D.Company:
    """The company a fresh sandbox of this seed, size and tenant profile serves (default ``full``)."""
    generated = D.generate_company(seed, employees)
    apply_tenant(generated, parse_tenant(tenant))
    return generated


def v1_date(value: Any) -> Any:
    """A v1 date attribute: ``YYYY-MM-DDT00:00:00+01:00`` (Personio's notation for a plain date)."""
    if not value:
        return None
    return (value if isinstance(value, str) else day_str(value))[:10] + "T00:00:00+01:00"


def _short_employee(c: D.Company, employee_id: int) -> Dict[str, Any]:
    e = c.employees[employee_id]
    return {"id": e["id"], "first_name": e["first_name"], "last_name": e["last_name"], "email": e["email"]}


def employee_row(c: D.Company, e: Dict[str, Any]) -> Dict[str, Any]:
    """One ``employees`` row: every attribute key a column holding its value."""
    legal_entity = next(x for x in c.legal_entities if x["id"] == e["legal_entity_id"])
    workplace = next(x for x in c.workplaces if x["id"] == e["workplace_id"])
    department = org_unit(c, e["department_id"])
    team = org_unit(c, e["team_id"]) if e["team_id"] else None
    cost_centers = {x["id"]: x for x in c.cost_centers}
    currency = employee_currency(c, e)
    row = {
        "id": e["id"], "first_name": e["first_name"], "last_name": e["last_name"],
        "preferred_name": e["preferred_name"], "email": e["email"], "gender": e["gender"], "status": e["status"],
        "position": e["position"], "employment_type": e["employment_type"],
        "weekly_working_hours": str(e["weekly_working_hours"]),  # a string on the wire and in the schema
        "hire_date": v1_date(e["hire_ts"]), "contract_end_date": v1_date(e["contract_end_date"]),
        "termination_date": v1_date(e["term_ts"]), "termination_type": e["termination_type"],
        "termination_reason": e["termination_reason"], "probation_period_end": v1_date(e["probation_end_ts"]),
        "created_at": iso_offset(e["created_ts"]), "last_modified_at": iso_offset(e["updated_ts"]),
        "subcompany": {"id": int(legal_entity["id"]), "name": legal_entity["name"]},
        "office": {"id": int(workplace["id"]), "name": workplace["name"]},
        "department": {"id": int(department["id"]), "name": department["name"]},
        "team": {"id": int(team["id"]), "name": team["name"]} if team else None,
        "cost_centers": [{"id": int(cid), "name": cost_centers[cid]["name"], "percentage": share} for cid, share in e["cost_centers"]],
        "holiday_calendar": dict(e["holiday_calendar"]),
        "absence_entitlement": [
            {"id": t["id"], "name": t["name"], "category": t["category"],
             "entitlement": e["entitlement"] if t["category"] == "paid_vacation" else 0}
            for t in c.time_off_types if t["unit"] == "day"
        ],
        "work_schedule": dict(e["work_schedule"]),
        "fix_salary": e["fix_salary"], "fix_salary_currency": currency, "fix_salary_interval": "monthly",
        "hourly_salary": e["hourly_salary"], "hourly_salary_currency": currency,
        "last_working_day": v1_date(e["term_ts"]),
        "profile_picture": "https://api.personio.de/v1/company/employees/%d/profile-picture" % e["id"],
    }
    if e["supervisor_id"]:
        row["supervisor"] = _short_employee(c, e["supervisor_id"])
    for key, _label, kind, _universal, _options in D.DYNAMIC:
        value = e["dynamic"].get(key)
        if kind == "date":
            value = v1_date(value)
        elif kind == "tags":  # one comma-separated string on the wire, a list of tags in the table
            value = [tag for tag in (value or "").split(",") if tag]
        row[key] = value
    return row


def employees(c: D.Company) -> List[Dict[str, Any]]:
    return [employee_row(c, e) for e in c.listed_employees()]


def absence_types(c: D.Company) -> List[Dict[str, Any]]:
    return [{"id": t["id"], "name": t["name"], "category": t["category"], "unit": t["unit"],
             "approval_required": t["approval_required"]} for t in c.time_off_types]


def absences(c: D.Company) -> List[Dict[str, Any]]:
    """``absences`` (v1 time-offs: the day-unit absences; hour-unit ones are v1 absence periods)."""
    types = {t["id"]: t for t in c.time_off_types}
    rows = []
    for a in c.absences.values():
        if a["unit"] != "day":
            continue
        t = types[a["type_id"]]
        rows.append({
            "id": a["id"], "status": a["status"],
            # dates at midnight Berlin time, in the +0100 notation of time-offs
            "start_date": iso_offset_nocolon(a["start_day"] - 3600), "end_date": iso_offset_nocolon(a["end_day"] - 3600),
            "days_count": num(sum(v for _day, v in day_breakdown(a))),
            # Personio sends 0/1 here (its schema says boolean); the schema allows both and the table keeps 0/1
            "half_day_start": int(bool(a["half_day_start"])), "half_day_end": int(bool(a["half_day_end"])),
            "time_off_type": {"id": t["id"], "name": t["name"], "category": t["category"]},
            "employee": _short_employee(c, a["employee_id"]) if a["employee_id"] in c.employees else {"id": a["employee_id"]},
            "created_by": a["created_by"],
            "certificate": {"status": "pending" if t["category"] == "sick_leave" else "not-required"},
            "created_at": iso_offset_nocolon(a["created_ts"]), "updated_at": iso_offset_nocolon(a["updated_ts"]),
        })
    return rows


def document_categories(c: D.Company) -> List[Dict[str, Any]]:
    return [{"id": d["id"], "name": d["name"]} for d in c.document_categories]


def _report_period(report: Dict[str, Any]) -> tuple:
    """A generated report's fixed period: it ends the day before the sandbox's epoch and spans 0/90/365 days."""
    end = day_str(BASE_EPOCH - DAY)
    days = {"point_in_time": 0, "timeframe": 90}.get(report["type"], 365)
    return (end if days == 0 else day_str(BASE_EPOCH - days * DAY)), end


def custom_reports_list(c: D.Company) -> List[Dict[str, Any]]:
    from personio_sandbox.resources.reports_v1 import REPORT_COLUMNS

    rows = []
    for r in c.reports:
        start, end = _report_period(r)
        rows.append({
            "id": r["id"], "name": r["name"], "description": r["description"], "author_first_name": "Robert",
            "author_last_name": "Sirano", "type": r["type"], "status": "up_to_date", "start_date": start, "end_date": end,
            "created_at": iso_z(r["created_ts"]), "updated_at": iso_z(r["updated_ts"]),
            "data_refreshed_at": iso_z(r["refreshed_ts"]), "columns": [x[0] for x in REPORT_COLUMNS],
            "filters": [{"column": "status", "comparison": "eq", "value": "active"}], "period_type": "fixed",
        })
    return rows


def report_cells(c: D.Company, e: Dict[str, Any]) -> List[Dict[str, Any]]:
    """The cells of one employee in every generated report (its five columns), as Personio sends a cell."""
    department = org_unit(c, e["department_id"])
    return [
        {"attribute_id": "first_name", "data_type": "TEXT", "value": e["first_name"]},
        {"attribute_id": "last_name", "data_type": "TEXT", "value": e["last_name"]},
        {"attribute_id": "position", "data_type": "TEXT", "value": e["position"]},
        {"attribute_id": "department", "data_type": "ENTITY", "entity_id": department["id"], "value": department["name"]},
        {"attribute_id": "fix_salary", "data_type": "SALARY", "amount": "%.2f" % e["fix_salary"],
         "currency_symbol": CURRENCY_SYMBOL[employee_currency(c, e)]},
    ]


def report_effective_date(c: D.Company, report: Dict[str, Any], e: Dict[str, Any]) -> str:
    """A historical report's row date (the employee's one value change in its year: the later of hire and the
    year's start); ``""`` in point-in-time and timeframe reports."""
    if report["type"] != "historical_data":
        return ""
    return day_str(max(e["hire_ts"], BASE_EPOCH - 365 * DAY))


def reported_employees(c: D.Company) -> List[Dict[str, Any]]:
    """The generated reports filter on ``status = active``: every employee not inactive."""
    return [c.employees[i] for i in c.person_order if i in c.employees and c.employees[i]["status"] != "inactive"]


def custom_reports(c: D.Company) -> List[Dict[str, Any]]:
    """``custom_reports``: one row per report, employee (and effective date), its cells in ``attributes``."""
    return [
        {"report_id": r["id"], "report_type": r["type"], "employee_id": e["id"],
         "effective_date": report_effective_date(c, r, e), "attributes": report_cells(c, e)}
        for r in c.reports for e in reported_employees(c)
    ]


def custom_report_stream(c: D.Company, report: Dict[str, Any]) -> List[Dict[str, Any]]:
    """A ``custom_report_<name>`` stream: one column per report column (by ``attribute_id``); TEXT and ENTITY
    cells give their value, other cells an object of their own fields."""
    rows = []
    for e in reported_employees(c):
        row: Dict[str, Any] = {"employee_id": e["id"], "effective_date": report_effective_date(c, report, e)}
        for cell in report_cells(c, e):
            if cell["data_type"] in ("TEXT", "ENTITY"):
                row[cell["attribute_id"]] = cell["value"]
            else:
                row[cell["attribute_id"]] = {k: v for k, v in cell.items() if k not in ("attribute_id", "data_type")}
        rows.append(row)
    return rows


def balances(c: D.Company) -> List[Dict[str, Any]]:
    """``employees_absences_balance``: each employee's balance per day-unit time-off type (the sandbox's
    balance model: entitlement minus days taken until today)."""
    return [dict(b, employee_id=e["id"]) for e in c.listed_employees() for b in employee_balance(c, e["id"])]


V1_STREAMS = {
    "employees": (employees, ("id",)),
    "absence_types": (absence_types, ("id",)),
    "absences": (absences, ("id",)),
    "document_categories": (document_categories, ("id",)),
    "custom_reports_list": (custom_reports_list, ("id",)),
    "custom_reports": (custom_reports, ("report_id", "employee_id", "effective_date")),
    "employees_absences_balance": (balances, ("employee_id", "id")),
}


def v2_report_record(row: List[Dict[str, Any]], columns: List[Dict[str, Any]]) -> Dict[str, Any]:
    """A Report API v2 row as a table row: each positional cell under its column's name, by the column's type
    (NUMERIC ``numeric_value.number``, STRING ``string_value.value``, OPTIONS ``options_value.options``,
    TIME_RANGE as ``<name>_from`` / ``<name>_to``)."""
    kinds = {c["name"]: c["type"] for c in columns}
    record: Dict[str, Any] = {}
    for cell in row:
        name = cell["attribute_id"]
        if kinds[name] == "TIME_RANGE":
            record[name + "_from"] = cell["time_range_value"]["from"]
            record[name + "_to"] = cell["time_range_value"]["to"]
        elif kinds[name] == "OPTIONS":
            record[name] = cell["options_value"]["options"]
        elif kinds[name] == "NUMERIC":
            record[name] = cell["numeric_value"]["number"]
        else:
            record[name] = cell["string_value"]["value"]
    return record


# ---------------------------------------------------------------- rows of changed data, field by field
# After a sandbox changed (mutations, churn, another tenant's gates) the in-process company no longer is the
# served one; then a row is stated from the served record, field by field, per stream, as Personio documents
# each field (not by a generic walk over the response's shapes).

# employee attributes whose value is one entity (``{"type", "attributes"}``) or a list of them
EMPLOYEE_ENTITIES = ("department", "office", "team", "subcompany", "holiday_calendar", "work_schedule")
EMPLOYEE_ENTITY_LISTS = ("cost_centers", "absence_entitlement")


def _short_employee_fields(embedded: Dict[str, Any]) -> Dict[str, Any]:
    """The short Employee object of ``supervisor`` and time-offs' ``employee``: its attributes are wrapped
    employee attributes (``{"label", "value"}``)."""
    return {key: attribute["value"] for key, attribute in embedded["attributes"].items()}


def employee_row_from_wire(raw: Dict[str, Any]) -> Dict[str, Any]:
    """An ``employees`` row from a served v1 employee: each attribute's ``value`` under its key; entity
    attributes as their entity's fields, ``supervisor`` as the short employee's fields, ``tags`` split at
    commas, and ``<key>_currency`` for an attribute that carries a ``currency``."""
    row: Dict[str, Any] = {}
    for key, attribute in raw["attributes"].items():
        value = attribute["value"]
        if value is None:
            row[key] = None
        elif key == "supervisor":
            row[key] = _short_employee_fields(value)
        elif key in EMPLOYEE_ENTITIES:
            row[key] = dict(value["attributes"]) if value else None
        elif key in EMPLOYEE_ENTITY_LISTS:
            row[key] = [dict(entity["attributes"]) for entity in value]
        elif attribute.get("type") == "tags" and isinstance(value, str):
            row[key] = [tag for tag in value.split(",") if tag]
        else:
            row[key] = value
        if "currency" in attribute:
            row[key + "_currency"] = attribute["currency"]
    return row


def absence_row_from_wire(raw: Dict[str, Any]) -> Dict[str, Any]:
    """An ``absences`` row from a served v1 time-off: its attributes, ``time_off_type`` as the type's fields and
    ``employee`` as the short employee's fields."""
    row = dict(raw["attributes"])
    row["time_off_type"] = dict(row["time_off_type"]["attributes"])
    row["employee"] = _short_employee_fields(row["employee"])
    return row


def v1_row_from_wire(stream: str, raw: Dict[str, Any]) -> Dict[str, Any]:
    if stream == "employees":
        return employee_row_from_wire(raw)
    if stream == "absences":
        return absence_row_from_wire(raw)
    if stream == "document_categories":  # the id sits beside the attributes
        return {"id": raw["id"], **raw["attributes"]}
    return dict(raw["attributes"])  # absence_types, custom_reports_list


def v1_id(raw: Dict[str, Any]) -> Any:
    """The id of a served v1 record: ``attributes.id.value`` (employees), ``attributes.id`` (time-offs,
    time-off types, reports) or ``id`` beside the attributes (document categories)."""
    attributes = raw.get("attributes") or {}
    if "id" not in attributes:
        return raw["id"]
    value = attributes["id"]
    return value["value"] if isinstance(value, dict) else value


def utc_z(value: Any) -> Any:
    """The declared recruiting timestamp form: UTC ``YYYY-MM-DDTHH:MM:SSZ``, from a plain string or a wrapped
    ``{"date-time", "timezone"}`` value (the §10.5 shapes)."""
    if isinstance(value, dict):
        value = value["date-time"]
    if not isinstance(value, str):
        return value
    return _dt.datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
