"""Shared v2 query filters: dotted timestamp operators, id/name lists and ``sort``."""
from __future__ import annotations

import bisect

from .context import Ctx, parse_dt, per_version, v2_bad
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


def ts_window(ctx: Ctx, field_: str, ops: tuple, name: str, ordered, key, allow_z=True) -> list:
    """``ts_filters`` over ``ordered()`` (a list in the endpoint's order, built once per data version under
    ``name``), answered by bisection in a per-version index by ``key`` instead of a scan: a read in
    updated_at windows asks for thousands of windows of one large list."""
    bounds = []
    for op in ops:
        v = ctx.get(field_ if op == "" else field_ + "." + op)
        if v is not None:
            bounds.append((op, parse_dt(v, v2_bad, allow_z)))
    items = per_version(ctx.company, name, ordered)
    if not bounds:
        return items
    def index():
        order = sorted(range(len(items)), key=lambda i: key(items[i]))
        return order, [key(items[i]) for i in order]

    by_key, keys = per_version(ctx.company, name + " by " + field_, index)
    lo, hi = 0, len(keys)
    for op, t in bounds:
        if op in ("gt", "lte", ""):
            edge = bisect.bisect_right(keys, t)
            lo, hi = (max(lo, edge), hi) if op == "gt" else (lo, min(hi, edge))
        if op in ("gte", "lt", ""):
            edge = bisect.bisect_left(keys, t)
            lo, hi = (max(lo, edge), hi) if op != "lt" else (lo, min(hi, edge))
    return [items[i] for i in sorted(by_key[lo:hi])]


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
