"""Shared v2 query filters: dotted timestamp operators, id/name lists and ``sort``."""
from __future__ import annotations

from .context import Ctx, parse_dt, v2_bad
from .errors import v2_error


def ts_filters(ctx: Ctx, field_: str, ops: tuple, items: list, key, allow_z=True) -> list:
    for op in ops:
        name = field_ if op == "" else field_ + "." + op
        v = ctx.get(name)
        if v is None:
            continue
        t = parse_dt(v, v2_bad, allow_z)
        if op == "gt":
            items = [x for x in items if key(x) > t]
        elif op == "gte":
            items = [x for x in items if key(x) >= t]
        elif op == "lt":
            items = [x for x in items if key(x) < t]
        elif op == "lte":
            items = [x for x in items if key(x) <= t]
        else:
            items = [x for x in items if key(x) == t]
    return items


def simple_filter(ctx: Ctx, items, fields: dict):
    for param, key in fields.items():
        vals = ctx.getlist(param)
        if vals:
            items = [x for x in items if str(key(x)) in vals]
    return items


def sorted_param(ctx: Ctx, items, allowed=("name", "id"), default="id"):
    s = ctx.get("sort") or default
    desc = s.startswith("-")
    k = s.lstrip("-+")
    if k not in allowed:
        raise v2_error(400, "Invalid sort field %r" % k)
    if k == "id":
        return sorted(items, key=lambda x: (len(x["id"]), x["id"]), reverse=desc)
    return sorted(items, key=lambda x: (x[k], x["id"]), reverse=desc)
