"""v1 custom reports: list, rows by report, columns (§3.12)."""
from __future__ import annotations

import math

from .. import data as D
from ..context import Ctx, memo, parse_int
from ..data import DAY, iso_z, day_str
from ..errors import reports_error
from ..model import CURRENCY_SYMBOL, employee_currency, org_unit


REPORT_COLUMNS = [("first_name", "First name", "TEXT"), ("last_name", "Last name", "TEXT"),
                  ("position", "Position", "TEXT"), ("department", "Department", "ENTITY"),
                  ("fix_salary", "Fix salary", "SALARY")]


def report_meta(c: D.Company, r: dict) -> dict:
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
    data = [{"type": "Report", "attributes": report_meta(c, r)} for r in reps]
    return 200, {"success": True, "metadata": {"total_elements": len(data), "current_page": 1, "total_pages": 1},
                 "offset": 0, "limit": len(data), "data": data}


def _report_cells(c: D.Company, e: dict, hist: bool) -> list[dict]:
    dept = org_unit(c, e["department_id"])
    cells = [
        {"attribute_id": "first_name", "data_type": "TEXT", "value": e["first_name"]},
        {"attribute_id": "last_name", "data_type": "TEXT", "value": e["last_name"]},
        {"attribute_id": "position", "data_type": "TEXT", "value": e["position"]},
        {"attribute_id": "department", "data_type": "ENTITY", "entity_id": dept["id"], "value": dept["name"]},
        {"attribute_id": "fix_salary", "data_type": "SALARY", "amount": "%.2f" % e["fix_salary"], "currency_symbol": CURRENCY_SYMBOL[employee_currency(c, e)]},
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
    if r.get("archived"):  # §3.12 (da2ccbd, 2023-06): archived reports answer 400
        raise reports_error(400, "Bad Request", "The report is archived and can not be retrieved")

    def bad(msg):
        return reports_error(400, "Bad Request", msg, "page")
    page = parse_int(ctx.get("page"), "page", bad, 1, None, 1)
    limit = parse_int(ctx.get("limit"), "limit", bad, 1, 1000, 100)
    rows = memo(ctx, lambda: report_rows(c, r))  # every page would otherwise render the whole report
    total = len(rows)
    attrs = dict(report_meta(c, r))
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
