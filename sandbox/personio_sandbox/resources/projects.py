"""v2 projects."""
from __future__ import annotations

from ..context import Ctx
from .. import data as D
from ..data import day_str, iso_z
from ..errors import v2_error
from ..filters import simple_filter
from ..model import shapes_on
from ..paging import v2_list


CLIENTS = ["Acme GmbH", "Globex Ltd", "Initech AG", "Umbrella SE"]


def v2_project(p: dict, c=None) -> dict:
    """A v2 project; with the §10.5 shapes (``c`` given and shapes on) the newer fields [3P live]:
    ``client_name``, ``billable``, ``cost_center {id}``, ``start {date}``, ``end {date}`` (values are the
    sandbox's, derived from the project; a field without a value is left out)."""
    out = {"id": p["id"], "name": p["name"], "project_code": p["project_code"], "status": p["status"],
           "parent_project": {"id": p["parent_id"]} if p["parent_id"] else None,
           "created_at": iso_z(p["created_ts"]), "updated_at": iso_z(p["updated_ts"])}
    if c is not None and shapes_on(c):
        h = D._mix(c.seed, int(p["id"].replace("-", "")[:12], 16))
        out["client_name"] = CLIENTS[h % len(CLIENTS)]
        out["billable"] = bool((h >> 8) % 2)
        if c.cost_centers:
            out["cost_center"] = {"id": c.cost_centers[(h >> 16) % len(c.cost_centers)]["id"]}
        out["start"] = {"date": day_str(p["created_ts"])}
        if p["status"] == "ARCHIVED":
            out["end"] = {"date": day_str(p["updated_ts"])}
    return out


def h_v2_projects(ctx: Ctx):
    if shapes_on(ctx.company) and "includes" in ctx.params:  # §10.5 [3P live]: rejected
        raise v2_error(400, "Unknown query parameter 'includes'")
    items = simple_filter(ctx, ctx.company.projects, {"id": lambda p: p["id"], "name": lambda p: p["name"],
                                                      "status": lambda p: p["status"],
                                                      "project_code": lambda p: p["project_code"],
                                                      "parent_project.id": lambda p: p["parent_id"]})
    if (ctx.get("top_level_only") or "").lower() == "true":
        items = [p for p in items if not p["parent_id"]]
    return v2_list(ctx, items, lambda p: v2_project(p, ctx.company), 100, 100)


def h_v2_project(ctx: Ctx):
    p = next((p for p in ctx.company.projects if p["id"] == ctx.match["id"]), None)
    if p is None:
        raise v2_error(404, "The requested project was not found")
    return 200, v2_project(p, ctx.company)
