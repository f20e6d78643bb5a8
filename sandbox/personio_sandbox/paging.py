"""Pagination: v1 record-offset and page-number envelopes (§2.1/2.2) and v2 cursors (§2.3).

v2 cursors are opaque and Personio documents nothing about what they encode, so both readings are
served (``--v2-cursors``):

* ``positional`` (default, the inconvenient one): a cursor is an offset into the list as it is when the
  next page is asked for. A record deleted before the read position shifts the next page left (one
  record is on neither page); one inserted before it shifts it right (one record is on both).
* ``keyset``: a cursor names the last records of the page it came from; the next page starts right
  after the newest of them still in the list, wherever that is now. Deletes and inserts behind the read
  position change nothing ahead of it. (If every named record is gone, the page restarts at the
  positional offset minus the records named: repeats, never a skip.)
"""
from __future__ import annotations

import base64
import json
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
        q.append(("cursor", next_state if isinstance(next_state, str) else encode_cursor(next_state)))
        links["next"] = {"href": base + ctx.path + "?" + urlencode(q)}
    return links


def v2_limit(ctx: Ctx, hi: int, default: int) -> int:
    return parse_int(ctx.get("limit"), "limit", v2_bad, 1, hi, default)


KEYSET_ANCHORS = 20  # records of a page a keyset cursor names (newest last)


def item_key(item):
    """The identity of a list item as the sandbox keeps it (v2 uuid where there is one, else the id)."""
    if isinstance(item, dict):
        key = item.get("uuid", item.get("id"))
        return None if key is None else str(key)
    return None


def encode_keyset(offset: int, anchors: list) -> str:
    raw = json.dumps({"o": offset, "a": anchors}, separators=(",", ":")).encode()
    return "cur_k" + base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_keyset(s: str) -> tuple:
    try:
        if not s.startswith("cur_k"):
            raise ValueError
        b = s[5:]
        data = json.loads(base64.urlsafe_b64decode(b + "=" * (-len(b) % 4)).decode())
        return int(data["o"]), [str(a) for a in data["a"]]
    except Exception:
        raise v2_error(400, "Invalid cursor")


def _keyset_start(items: list, offset: int, anchors: list) -> int:
    """Where the page after one ending with ``anchors`` starts in the current ``items``."""
    if anchors and 0 < offset <= len(items) and item_key(items[offset - 1]) == anchors[-1]:
        return offset  # nothing changed behind the read position
    where = {}
    wanted = set(anchors)
    for i, x in enumerate(items):
        k = item_key(x)
        if k in wanted:
            where[k] = i
    for a in reversed(anchors):
        if a in where:
            return where[a] + 1
    return max(offset - len(anchors), 0)


def v2_page(ctx: Ctx, items: list, limit: int):
    """The page of ``items`` the request's cursor asks for, and the next cursor (None on the last page)."""
    cur = ctx.get("cursor")
    keyset = ctx.company.options.get("v2_cursors") == "keyset"
    if cur and cur.startswith("cur_k"):
        start = _keyset_start(items, *decode_keyset(cur))
    else:
        start = decode_cursor(cur)[0] if cur else 0
    chunk = items[start:start + limit]
    nxt = None
    if start + limit < len(items):
        keys = [item_key(x) for x in chunk][-KEYSET_ANCHORS:]
        # items without an identity (e.g. breakdown days) keep positional cursors in either mode
        nxt = encode_keyset(start + len(chunk), keys) if keyset and None not in keys else (start + limit, 0)
    return chunk, nxt


def v2_list(ctx: Ctx, items: list, render, hi: int, default: int):
    chunk, nxt = v2_page(ctx, items, v2_limit(ctx, hi, default))
    return 200, {"_data": [render(x) for x in chunk], "_meta": {"links": links(ctx, nxt)}}
