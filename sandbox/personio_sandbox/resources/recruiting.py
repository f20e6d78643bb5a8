"""v2 recruiting: candidates, applications (+ stage transitions), jobs, categories; newest-updated first."""
from __future__ import annotations

import datetime as _dt
import zoneinfo

from .. import data as D
from ..context import Ctx, ensure_indexes, memo
from ..data import iso_z, day_str
from ..errors import v2_error
from ..filters import ts_filters
from ..model import org_unit, shapes_on
from ..paging import v2_list


_ZONE = "Europe/Berlin"


def recruiting_ts(c: D.Company, ts: int):
    """A recruiting timestamp: a plain UTC string, or with the §10.5 shapes the wrapped form
    ``{"date-time": <ISO 8601 with the zone's offset>, "timezone": "Europe/Berlin"}`` ([3P] types, unverified)."""
    if not shapes_on(c):
        return iso_z(ts)
    local = _dt.datetime.fromtimestamp(ts, zoneinfo.ZoneInfo(_ZONE))
    return {"date-time": local.isoformat(), "timezone": _ZONE}


def render_application(c: D.Company, a: dict) -> dict:
    cand = c._cand_idx[a["candidate_id"]]
    job = c._job_idx[a["job_id"]]
    cur = a["transitions"][-1]["stage"]
    return {"id": a["id"], "application_date": day_str(a["application_ts"]),
            "candidate": {"id": cand["id"], "email": cand["email"], "first_name": cand["first_name"],
                          "last_name": cand["last_name"], "gender": cand["gender"]},
            "job": render_job(c, job, short=True), "current_stage": dict(cur, type=cur["kind"]),
            "channel": {"id": a["channel"].lower().replace(" ", "-"), "name": a["channel"]},
            "hiring_team": [{"id": x} for x in job["hiring_team"]], "is_anonymized": False,
            "created_at": recruiting_ts(c, a["created_ts"]), "updated_at": recruiting_ts(c, a["updated_ts"])}


def render_job(c: D.Company, j: dict, short: bool = False) -> dict:
    dept = org_unit(c, j["department_id"])
    cat = next(x for x in c.recruiting_categories if x["id"] == j["category_id"])
    out = {"id": j["id"], "name": j["name"], "department": {"id": dept["id"], "name": dept["name"]},
           "category": {"id": cat["id"], "name": cat["name"]}}
    if not short:
        out.update({"hiring_team": [{"id": x} for x in j["hiring_team"]], "company": {"id": "1"},
                    "created_at": recruiting_ts(c, j["created_ts"]), "updated_at": recruiting_ts(c, j["updated_ts"])})
    return out


def render_candidate(c: D.Company, x: dict) -> dict:
    return {"id": x["id"], "first_name": x["first_name"], "last_name": x["last_name"], "email": x["email"],
            "gender": x["gender"], "phone": x["phone"], "location": x["location"],
            "applications": [{"id": aid, "application_date": day_str(c._app_idx[aid]["application_ts"])}
                             for aid in x["application_ids"] if aid in c._app_idx],
            "created_at": iso_z(x["created_ts"]), "updated_at": iso_z(x["updated_ts"])}


def newest_first(items):
    return sorted(items, key=lambda x: (-x["updated_ts"], x["id"]))


def _recruiting_updated(ctx: Ctx, items, exclusive: bool):
    gt, lt = ctx.get("updated_at.gt"), ctx.get("updated_at.lt")
    if exclusive and gt and lt:
        raise v2_error(400, "The filters updated_at.gt and updated_at.lt are mutually exclusive")
    return ts_filters(ctx, "updated_at", ("gt", "lt"), items, lambda x: x["updated_ts"])


def h_v2_candidates(ctx: Ctx):
    c = ctx.company
    ensure_indexes(c)
    items = memo(ctx, lambda: _candidate_selection(ctx))
    return v2_list(ctx, items, lambda x: render_candidate(c, x), 200, 100)


def _candidate_selection(ctx: Ctx) -> list[dict]:
    items = _recruiting_updated(ctx, newest_first(ctx.company.candidates), True)
    em = ctx.get("email")
    if em:
        items = [x for x in items if x["email"].lower() == em.lower()]
    return items


def h_v2_candidate(ctx: Ctx):
    c = ctx.company
    ensure_indexes(c)
    x = c._cand_idx.get(ctx.match["id"])
    if x is None:
        raise v2_error(404, "The requested candidate was not found")
    return 200, render_candidate(c, x)


def h_v2_applications(ctx: Ctx):
    c = ctx.company
    ensure_indexes(c)
    items = memo(ctx, lambda: _application_selection(ctx))
    return v2_list(ctx, items, lambda x: render_application(c, x), 200, 100)


def _application_selection(ctx: Ctx) -> list[dict]:
    c = ctx.company
    items = _recruiting_updated(ctx, newest_first(c.applications), False)
    em = ctx.get("candidate.email")
    if em:
        items = [x for x in items if c._cand_idx[x["candidate_id"]]["email"].lower() == em.lower()]
    return items


def _application(ctx: Ctx) -> dict:
    c = ctx.company
    ensure_indexes(c)
    x = c._app_idx.get(ctx.match["id"])
    if x is None:
        raise v2_error(404, "The requested application was not found")
    return x


def h_v2_application(ctx: Ctx):
    return 200, render_application(ctx.company, _application(ctx))


def stage_transitions(c: D.Company, a: dict) -> list[dict]:
    """An application's stage transitions, "ordered by latest-first"."""
    return [{"entered_at": recruiting_ts(c, t["ts"]), "stage": dict(t["stage"], type=t["stage"]["kind"])}
            for t in reversed(a["transitions"])]


def h_v2_stage_transitions(ctx: Ctx):
    return v2_list(ctx, stage_transitions(ctx.company, _application(ctx)), lambda x: x, 200, 100)


def h_v2_jobs(ctx: Ctx):
    c = ctx.company
    items = memo(ctx, lambda: _recruiting_updated(ctx, newest_first(c.jobs), False))
    return v2_list(ctx, items, lambda j: render_job(c, j), 200, 100)


def h_v2_job(ctx: Ctx):
    j = next((j for j in ctx.company.jobs if j["id"] == ctx.match["id"]), None)
    if j is None:
        raise v2_error(404, "The requested job was not found")
    return 200, render_job(ctx.company, j)


def render_category(x):
    return {"id": x["id"], "name": x["name"], "stages": [dict(s, type=s["kind"]) for s in x["stages"]],
            "company": {"id": "1"}}


def h_v2_categories(ctx: Ctx):
    return v2_list(ctx, ctx.company.recruiting_categories, render_category, 200, 100)


def h_v2_category(ctx: Ctx):
    x = next((x for x in ctx.company.recruiting_categories if x["id"] == ctx.match["id"]), None)
    if x is None:
        raise v2_error(404, "The requested category was not found")
    return 200, render_category(x)
