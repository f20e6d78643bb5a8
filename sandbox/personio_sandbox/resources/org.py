"""v2 legal entities, org units, cost centers and workplaces."""
from __future__ import annotations

from .. import data as D
from ..context import Ctx
from ..data import iso_z, day_str
from ..errors import v2_error
from ..filters import simple_filter, sorted_param
from ..model import org_unit
from ..paging import v2_list


def v2_org_unit(c: D.Company, u: dict, chain: bool) -> dict:
    out = {"id": u["id"], "type": u["type"], "name": u["name"], "abbreviation": u["abbreviation"],
           "parent": {"id": u["parent_id"]} if u["parent_id"] else None}
    if chain:
        pc, cur = [], u
        while cur["parent_id"]:
            cur = org_unit(c, cur["parent_id"])
            pc.append({"id": cur["id"], "type": cur["type"], "name": cur["name"]})
        out["parent_chain"] = pc
    return out


def v2_legal_entity(le: dict) -> dict:
    return {"id": le["id"], "name": le["name"], "country": le["country"], "valid_from": day_str(le["created_ts"]),
            "created_at": iso_z(le["created_ts"]), "updated_at": iso_z(le["created_ts"])}


def legal_entities_newest_first(c) -> list[dict]:
    return sorted(c.legal_entities, key=lambda x: (-x["created_ts"], x["id"]))


def h_v2_legal_entities(ctx: Ctx):
    items = legal_entities_newest_first(ctx.company)
    items = simple_filter(ctx, items, {"id": lambda x: x["id"], "country": lambda x: x["country"]})
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
    items = sorted_param(ctx, items)
    return v2_list(ctx, items, lambda u: v2_org_unit(ctx.company, u, chain), 100, 50)


def h_v2_org_unit(ctx: Ctx):
    u = org_unit(ctx.company, ctx.match["id"])
    if u is None:
        raise v2_error(404, "The requested org unit was not found")
    return 200, v2_org_unit(ctx.company, u, (ctx.get("include_parent_chain") or "").lower() == "true")


def v2_cost_center(x: dict) -> dict:
    return {"id": x["id"], "name": x["name"]}


def v2_workplace(x: dict) -> dict:
    return {"id": x["id"], "name": x["name"], "address": {"country": x["country"]}}


def by_id(items):
    """The lists' default sort (``sort=id``)."""
    return sorted(items, key=lambda x: (len(x["id"]), x["id"]))


def h_v2_cost_centers(ctx: Ctx):
    items = simple_filter(ctx, ctx.company.cost_centers, {"id": lambda x: x["id"], "name": lambda x: x["name"]})
    items = sorted_param(ctx, items)
    return v2_list(ctx, items, v2_cost_center, 100, 50)


def h_v2_workplaces(ctx: Ctx):
    items = simple_filter(ctx, ctx.company.workplaces, {"id": lambda x: x["id"], "name": lambda x: x["name"]})
    items = sorted_param(ctx, items)
    return v2_list(ctx, items, v2_workplace, 100, 50)
