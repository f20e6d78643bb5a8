"""Pure Personio API logic: (company, path, query, credential) -> (status, body).

The server adds auth, rate limits, faults, caching and stats around this. Unit tests can use ``render``
and ``dataset`` directly on a ``data.Company``."""
from __future__ import annotations

from urllib.parse import urlsplit

from . import data as D
from .auth import Credential, FULL
from .context import Ctx, parse_query
from .errors import ApiError, problem_body
from .routes import match
from .tenants import gate


def render(company: D.Company, path: str, params=None, cred: Credential = FULL,
           base_url: str = "http://127.0.0.1", relative_attendance_links: bool = False, strict_booleans: bool = False):
    """Return (status, body) for GET path (``path`` may carry a query string; ``params`` a dict)."""
    if "?" in path:
        path, qs = path.split("?", 1)
        q = parse_query(qs)
    else:
        q = {}
    for k, v in (params or {}).items():
        q[k] = v if isinstance(v, list) else [str(v)]
    route, m = match(path)
    if route is None:
        return 404, ({"success": False, "error": {"code": 404, "message": "Not found"}} if path.startswith("/v1")
                     else problem_body(404, "The requested resource was not found"))
    blocked = gate(company, cred, path)
    if blocked is not None:
        return blocked.status, blocked.body
    ctx = Ctx(company, path, q, cred, base_url, relative_attendance_links, m, strict_booleans)
    try:
        return route.handler(ctx)
    except ApiError as e:
        return e.status, e.body


def records_of(body, list_kind: str | None):
    if list_kind in ("v1", "v1page", "v1flat"):
        return body["data"]
    if list_kind == "report":
        return body["data"][0]["attributes"]["items"]
    if list_kind in ("v2", "v2plain"):
        return body["_data"]
    return body.get("data") if isinstance(body, dict) else body


def dataset(company: D.Company, path: str, cred: Credential = FULL, base_url: str = "http://127.0.0.1",
            strict_booleans: bool = False) -> list:
    """Complete ground truth of a list path (default filters/page sizes), as served across all pages
    (``strict_booleans`` as the server's ``--spec-strict-booleans``)."""

    p, _, qs = path.partition("?")
    route, _m = match(p)
    if route is None or route.list_kind is None:
        raise ValueError("not a list path: %s" % p)
    q = parse_query(qs)
    out = []
    kind = route.list_kind
    # page sizes the connector does not use (it asks for 100 / 200), so that this ground truth does not share
    # a page boundary with a connector's read; /_sandbox/truth does not page at all
    if kind == "v1":
        q.pop("offset", None)
        q["limit"] = ["97"]
        if "updated_since" in q:
            q["limit"] = ["199"]
        off = 0
        while True:
            q["offset"] = [str(off)]
            st, body = render(company, p, {k: v for k, v in q.items()}, cred, base_url, strict_booleans=strict_booleans)
            if st != 200:
                raise ValueError(body)
            out.extend(body["data"])
            off += int(q["limit"][0])
            if off >= body["metadata"]["total_elements"]:
                return out
    if kind == "v1flat":
        q.pop("offset", None)
        q["limit"] = ["1000000"]
        st, body = render(company, p, q, cred, base_url, strict_booleans=strict_booleans)
        if st != 200:
            raise ValueError(body)
        return body["data"]
    if kind in ("v1page", "report"):
        key = "offset" if kind == "v1page" else "page"
        q.pop(key, None)
        q["limit"] = ["197"] if kind == "v1page" else ["997"]
        page = 1
        while True:
            q[key] = [str(page)]
            st, body = render(company, p, q, cred, base_url, strict_booleans=strict_booleans)
            if st != 200:
                raise ValueError(body)
            out.extend(records_of(body, kind))
            if page >= body["metadata"]["total_pages"]:
                return out
            page += 1
    if kind == "v2plain":  # Report API v2: a plain-string next link that carries only cursor and limit
        q.pop("cursor", None)
        q["limit"] = ["3"] if p == "/v2/reports" else ["997"]
        while True:
            st, body = render(company, p, q, cred, base_url, strict_booleans=strict_booleans)
            if st != 200:
                raise ValueError(body)
            out.extend(body["_data"])
            nxt = body["_meta"]["links"].get("next")
            if not nxt:
                return out
            q = parse_query(urlsplit(nxt).query)
    # v2
    q.pop("cursor", None)
    while True:
        st, body = render(company, p, q, cred, base_url, strict_booleans=strict_booleans)
        if st != 200:
            raise ValueError(body)
        out.extend(body["_data"])
        nxt = body["_meta"]["links"].get("next")
        if not nxt:
            return out
        q = parse_query(urlsplit(nxt["href"]).query)
