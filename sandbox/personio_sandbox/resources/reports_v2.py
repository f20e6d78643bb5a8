"""Report API v2 (§10.1): ``GET /v2/reports``, ``GET /v2/reports/{id}``, ``GET /v2/reports/attributes``.

From Personio's changelog and the "Public API - Reporting Engine Service" spec as quoted in §10.1: the list
is most recent first with ``name`` / ``cursor`` / ``limit`` ("Limit <= 0 returns all reports"); "if query
parameters are provided in addition to the cursor and limit the request will fail"; a report is read with
``locale`` / ``cursor`` / ``limit`` (absent = all rows); only reports an administrator enabled for API access
appear. From a third party's live observation [3P live 2026-07]: the shape ``{report_config, _data: [[cell,
...]], _meta: {columns: [{name, display, type}], links: {next: "<plain string>"}}}``, cells like
``{attribute_id, string_value{value} | numeric_value{number} | options_value{options} | time_range_value{from,
to}}``, grouped reports answering 400 "Unsupported nested type: null", and 400 "Unauthorized token" without
the reports right (see ``personio_sandbox.tenants``). Everything else (the list record's fields, the column
types, ``report_config``'s fields, the row cursor) is the sandbox's choice, listed in sandbox/README.md.

The rows are the v1 custom report's rows (``reports_v1.report_rows``): the same company's data, v2 shapes.
"""
from __future__ import annotations

import base64
import json
from urllib.parse import urlencode

from .. import data as D
from ..context import Ctx, memo, parse_int, v2_bad
from ..data import iso_z
from ..errors import v2_error
from .reports_v1 import report_meta, report_rows

# (attribute id, display (en, de), column type, cell kind)
ATTRIBUTES = [
    ("employee_id", ("Employee ID", "Mitarbeiter-ID"), "NUMERIC", "numeric_value"),
    ("first_name", ("First name", "Vorname"), "STRING", "string_value"),
    ("last_name", ("Last name", "Nachname"), "STRING", "string_value"),
    ("position", ("Position", "Position"), "STRING", "string_value"),
    ("department", ("Department", "Abteilung"), "OPTIONS", "options_value"),
    ("fix_salary", ("Fix salary", "Fixgehalt"), "NUMERIC", "numeric_value"),
    ("effective_date", ("Effective date", "Gültig ab"), "TIME_RANGE", "time_range_value"),
]
LOCALES = ("en", "de")
LIST_DEFAULT_LIMIT = 50


def api_reports(c: D.Company) -> list[dict]:
    """The reports enabled for API access, most recent first (archived ones are not served)."""
    reps = [r for r in c.reports if r.get("api_access", True) and not r.get("archived")]
    return sorted(reps, key=lambda r: (-r["updated_ts"], -r["created_ts"], r["id"]))


def v2_report_summary(r: dict) -> dict:
    return {"id": r["id"], "name": r["name"], "description": r["description"], "type": r["type"],
            "created_at": iso_z(r["created_ts"]), "updated_at": iso_z(r["updated_ts"])}


def _display(i: int, locale: str) -> str:
    return ATTRIBUTES[i][1][1 if locale == "de" else 0]


def report_columns(r: dict, locale: str = "en") -> list[dict]:
    n = len(ATTRIBUTES) if r["type"] == "historical_data" else len(ATTRIBUTES) - 1
    return [{"name": ATTRIBUTES[i][0], "display": _display(i, locale), "type": ATTRIBUTES[i][2]} for i in range(n)]


def _cell(attribute_id: str, kind: str, value) -> dict:
    return {"attribute_id": attribute_id, kind: value}


def v2_report_row(v1_row: dict, hist: bool) -> list[dict]:
    """One v1 report row as positional v2 cells (same values, v2 shapes)."""
    cells = {x["attribute_id"]: x for x in v1_row["historical_attributes" if hist else "attributes"]}
    out = [_cell("employee_id", "numeric_value", {"number": v1_row["employee_id"]}),
           _cell("first_name", "string_value", {"value": cells["first_name"]["value"]}),
           _cell("last_name", "string_value", {"value": cells["last_name"]["value"]}),
           _cell("position", "string_value", {"value": cells["position"]["value"]}),
           _cell("department", "options_value", {"options": [cells["department"]["value"]]}),
           _cell("fix_salary", "numeric_value", {"number": float(cells["fix_salary"]["amount"])})]
    if hist:
        out.append(_cell("effective_date", "time_range_value", {"from": cells["first_name"]["effective_date"],
                                                                "to": None}))
    return out


def v2_report_rows(c: D.Company, r: dict) -> list[list[dict]]:
    hist = r["type"] == "historical_data"
    return [v2_report_row(row, hist) for row in report_rows(c, r)]


def report_config(c: D.Company, r: dict) -> dict:
    m = report_meta(c, r)
    return {"id": r["id"], "name": r["name"], "type": r["type"],
            "timeframe": {"from": m["start_date"], "to": m["end_date"]},
            "columns": [col["name"] for col in report_columns(r)], "filters": m["filters"],
            "grouping": None, "sorting": None}


# ---------------------------------------------------------------- cursors: opaque, carry the request's state
def _encode(state: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(state, separators=(",", ":")).encode()).decode().rstrip("=")


def _decode(s: str) -> dict:
    try:
        st = json.loads(base64.urlsafe_b64decode(s + "=" * (-len(s) % 4)).decode())
        if not isinstance(st, dict) or not isinstance(st.get("o"), int):
            raise ValueError
        return st
    except Exception:
        raise v2_error(400, "Invalid cursor")


def _cursor_only(ctx: Ctx) -> dict | None:
    """§10.1: with a cursor only ``cursor`` and ``limit`` may be sent."""
    cur = ctx.get("cursor")
    if cur is None:
        return None
    extra = sorted(k for k in ctx.params if k not in ("cursor", "limit"))
    if extra:
        raise v2_error(400, "Query parameters %s can not be combined with a cursor; send only cursor and limit"
                       % ", ".join(extra))
    return _decode(cur)


def _next(ctx: Ctx, state: dict, limit: int | None) -> str:
    """The next page's link: a plain string (not ``{href}``), carrying only ``cursor`` and ``limit``."""
    q = [("cursor", _encode(state))]
    if limit is not None:
        q.append(("limit", str(limit)))
    return ctx.base_url + ctx.path + "?" + urlencode(q)


def _limit(ctx: Ctx, state: dict | None, key: str, default):
    raw = ctx.get("limit")
    if raw is None and state is not None:
        return state.get(key, default)
    return parse_int(raw, "limit", v2_bad, None, None, default) if raw is not None else default


# ---------------------------------------------------------------- handlers
def h_v2_reports(ctx: Ctx):
    state = _cursor_only(ctx)
    name = (state or {}).get("n") if state is not None else ctx.get("name")
    items = api_reports(ctx.company)
    if name:
        items = [r for r in items if name.lower() in r["name"].lower()]
    limit = _limit(ctx, state, "l", LIST_DEFAULT_LIMIT)
    off = state["o"] if state else 0
    if limit <= 0:  # "Limit <= 0 returns all reports"
        chunk, nxt = items[off:], None
    else:
        chunk = items[off:off + limit]
        nxt = off + limit if off + limit < len(items) else None
    links = {"self": ctx.base_url + ctx.path}
    if nxt is not None:
        links["next"] = _next(ctx, {"o": nxt, "n": name, "l": limit}, limit)
    return 200, {"_data": [v2_report_summary(r) for r in chunk], "_meta": {"links": links}}


def _report(ctx: Ctx) -> dict:
    r = next((x for x in api_reports(ctx.company) if x["id"] == ctx.match["id"]), None)
    if r is None:  # unknown, or not enabled for API access
        raise v2_error(404, "Report not found")
    return r


def h_v2_report(ctx: Ctx):
    r = _report(ctx)
    if r.get("grouped"):  # §10.1 [3P live]: grouped/chart reports
        raise v2_error(400, "Unsupported nested type: null")
    state = _cursor_only(ctx)
    locale = state.get("loc", "en") if state is not None else (ctx.get("locale") or "en")
    if locale not in LOCALES:
        raise v2_error(400, "Unsupported locale %r (supported: %s)" % (locale, ", ".join(LOCALES)))
    limit = _limit(ctx, state, "l", None)
    if limit is not None and limit < 1:
        raise v2_error(400, "Invalid limit: limit must be at least 1")
    rows = memo(ctx, lambda: v2_report_rows(ctx.company, r))  # not the whole report per page
    off = state["o"] if state else 0
    chunk = rows[off:] if limit is None else rows[off:off + limit]
    links = {"self": ctx.base_url + ctx.path}
    if limit is not None and off + limit < len(rows):
        links["next"] = _next(ctx, {"o": off + limit, "loc": locale, "l": limit}, limit)
    return 200, {"report_config": report_config(ctx.company, r), "_data": chunk,
                 "_meta": {"columns": report_columns(r, locale), "links": links}}


def report_attributes(locale: str = "en") -> list[dict]:
    return [{"name": a, "display": _display(i, locale), "type": t} for i, (a, _d, t, _k) in enumerate(ATTRIBUTES)]


def h_v2_report_attributes(ctx: Ctx):
    locale = ctx.get("locale") or "en"
    if locale not in LOCALES:
        raise v2_error(400, "Unsupported locale %r (supported: %s)" % (locale, ", ".join(LOCALES)))
    return 200, {"_data": report_attributes(locale), "_meta": {"links": {"self": ctx.base_url + ctx.path}}}
