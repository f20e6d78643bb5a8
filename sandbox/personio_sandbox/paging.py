"""Pagination: v1 record-offset and page-number envelopes (§2.1/2.2) and v2 cursors (§2.3)."""
from __future__ import annotations

import base64
import math
from urllib.parse import urlencode

from .context import Ctx, parse_int, v1_bad, v2_bad
from .errors import v2_error


def v1_list_envelope(items, total, current_page, total_pages, offset, limit):
    return {"success": True, "metadata": {"total_elements": total, "current_page": current_page,
                                          "total_pages": total_pages}, "offset": offset, "limit": limit, "data": items}


def page_number_list(ctx: Ctx, items, render):
    limit = parse_int(ctx.get("limit"), "limit", v1_bad, 1, None, 200)
    offset = parse_int(ctx.get("offset"), "offset", v1_bad, 0, None, 0)
    page = max(offset, 1)  # 1-based page number; 0 behaves as 1
    total = len(items)
    chunk = items[(page - 1) * limit: page * limit]
    return 200, v1_list_envelope([render(ctx, a) for a in chunk], total, page,
                                  math.ceil(total / limit), offset, limit)


def encode_cursor(state) -> str:
    raw = ".".join(str(x) for x in state).encode()
    return "cur_" + base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(s: str) -> list[int]:
    try:
        if not s.startswith("cur_"):
            raise ValueError
        b = s[4:]
        raw = base64.urlsafe_b64decode(b + "=" * (-len(b) % 4)).decode()
        return [int(x) for x in raw.split(".")]
    except Exception:
        raise v2_error(400, "Invalid cursor")


def links(ctx: Ctx, next_state, relative: bool = False) -> dict:
    base = "" if relative else ctx.base_url
    q = [(k, v) for k, vs in ctx.params.items() if k != "cursor" for v in vs]
    selfq = [(k, v) for k, vs in ctx.params.items() for v in vs]
    links = {"self": {"href": base + ctx.path + ("?" + urlencode(selfq) if selfq else "")}}
    if next_state is not None:
        q.append(("cursor", encode_cursor(next_state)))
        links["next"] = {"href": base + ctx.path + "?" + urlencode(q)}
    return links


def v2_limit(ctx: Ctx, hi: int, default: int) -> int:
    return parse_int(ctx.get("limit"), "limit", v2_bad, 1, hi, default)


def v2_list(ctx: Ctx, items: list, render, hi: int, default: int):
    limit = v2_limit(ctx, hi, default)
    cur = ctx.get("cursor")
    offset = decode_cursor(cur)[0] if cur else 0
    chunk = items[offset:offset + limit]
    nxt = (offset + limit,) if offset + limit < len(items) else None
    return 200, {"_data": [render(x) for x in chunk], "_meta": {"links": links(ctx, nxt)}}
