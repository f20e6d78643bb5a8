"""aiohttp response helpers shared by the server, the token endpoints and the control endpoints."""
from __future__ import annotations

from urllib.parse import parse_qsl

import orjson
from aiohttp import web

from .errors import ApiError, ERROR_TITLES, oauth_error, reports_error, v1_error, v2_error


def json_response(status: int, body, content_type="application/json", headers=None) -> web.Response:
    return web.Response(status=status, body=orjson.dumps(body), content_type=content_type, headers=headers)


def error_response(e: ApiError, headers=None) -> web.Response:
    return json_response(e.status, e.body, e.content_type, headers)


async def read_form_or_json(request: web.Request) -> tuple[dict, str]:
    ctype = request.content_type
    raw = await request.read()
    if ctype == "application/json":
        try:
            d = orjson.loads(raw or b"{}")
            return (d if isinstance(d, dict) else {}), "json"
        except orjson.JSONDecodeError:
            return {}, "badjson"
    if ctype == "application/x-www-form-urlencoded":
        return dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True)), "form"
    return {}, ctype or "none"


def error_for(kind: str, template: str, status: int, msg: str) -> ApiError:
    if template.startswith("/v2/auth"):
        return oauth_error("temporarily_unavailable" if status >= 429 else "invalid_request", msg, status)
    if kind == "v2" or template.startswith("/v2"):
        return v2_error(status, msg)
    if template.startswith("/v1/company/custom-reports"):
        return reports_error(status, ERROR_TITLES.get(status, ("Error", ""))[0], msg)
    return v1_error(status, msg)


def bearer(request: web.Request) -> str | None:
    h = request.headers.get("Authorization", "")
    if h[:7].lower() == "bearer ":
        return h[7:].strip() or None
    return None
