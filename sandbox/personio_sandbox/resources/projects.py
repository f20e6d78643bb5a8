"""v2 projects."""
from __future__ import annotations

from ..context import Ctx
from ..data import iso_z
from ..errors import v2_error
from ..filters import simple_filter
from ..paging import v2_list


def v2_project(p: dict) -> dict:
    return {"id": p["id"], "name": p["name"], "project_code": p["project_code"], "status": p["status"],
            "parent_project": {"id": p["parent_id"]} if p["parent_id"] else None,
            "created_at": iso_z(p["created_ts"]), "updated_at": iso_z(p["updated_ts"])}


def h_v2_projects(ctx: Ctx):
    items = simple_filter(ctx, ctx.company.projects, {"id": lambda p: p["id"], "name": lambda p: p["name"],
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
