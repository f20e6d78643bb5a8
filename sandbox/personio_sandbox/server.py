"""aiohttp server: routing of every request through faults, rate limits, tokens, scopes and the page cache."""
from __future__ import annotations

import asyncio
import logging
import random
import secrets
import time
from collections import Counter

import orjson
from aiohttp import web

from . import data as D
from .api import records_of
from .auth import FULL, V1_SCOPE_OF, Credential
from .context import Ctx, parse_query
from .control import control
from .errors import ApiError, v1_error, v2_error
from .faults import Fault, apply_body_faults
from .ratelimits import DOCUMENTED, RateLimiter  # noqa: F401  (DOCUMENTED: scripts/bench_model.py reads it here)
from .responses import bearer, error_for, error_response
from .routes import match
from .tenants import gate
from .tokens import check_token
from .tokens import token_endpoint
from .triggers import Changer, parse_churn


log = logging.getLogger("personio_sandbox")

CACHE_MAX_BYTES = 256 * 1024 * 1024  # serialized pages kept until a mutation (or this bound)


class ServerState:
    def __init__(self, company: D.Company, credentials: list[Credential], token_ttl: int = 86400,
                 rate_limits="documented", faults=(), relative_attendance_links: bool = False, seed: int = 1,
                 strict_booleans: bool = False, churn: str | None = None, churn_every_requests: int | None = None,
                 churn_interval_s: float | None = None):
        self.company = company
        # triggers and churn: data changes while serving (see personio_sandbox.triggers)
        self.changer = Changer(company, seed, parse_churn(churn) if churn else None, churn_every_requests,
                               churn_interval_s)
        self.creds = {c.client_id: c for c in credentials}
        self.default_cred = credentials[0] if credentials else FULL  # what truth/dataset show without client_id
        self.token_ttl = token_ttl
        self.tokens: dict[str, tuple[Credential, str, float]] = {}
        self.limiter = RateLimiter(rate_limits)
        self.faults = [Fault.parse(f) for f in faults]
        self.fault_rng = random.Random(seed * 1000003 + 7)
        self.relative_attendance_links = relative_attendance_links
        self.strict_booleans = strict_booleans  # --spec-strict-booleans: time-off half days as booleans, not 0/1
        self.issued: list[str] = []  # every access token issued by this process (GET /_sandbox/tokens)
        self.cache: dict = {}
        self.cache_bytes = 0
        self.cache_version = company.version
        self.reset_stats()

    def reset_stats(self):
        self.req_counts: Counter = Counter()
        self.status_counts: Counter = Counter()
        self.error_counts: Counter = Counter()  # "429 GET /v2/persons": non-2xx answers per endpoint
        self.total = 0

    def issue_token(self, cred: Credential, kind: str) -> str:
        tok = "papi-" + secrets.token_hex(24)
        self.tokens[tok] = (cred, kind, time.time() + self.token_ttl)
        self.issued.append(tok)
        return tok


def make_app(sb) -> web.Application:
    app = web.Application(client_max_size=1024 ** 2)
    app["sb"] = sb

    async def handle(request: web.Request) -> web.StreamResponse:
        path = request.path
        if path.startswith("/_sandbox"):
            return await control(request, sb)
        method = request.method
        if path == "/v1/auth":
            template, kind, route, m = "/v1/auth", "auth", None, {}
        elif path in ("/v2/auth/token", "/v2/auth/revoke"):
            template, kind, route, m = path, "auth", None, {}
        else:
            route, m = match(path)
            template = route.template if route else path
            kind = route.api if route else ("v1" if path.startswith("/v1") else "v2")
        sb.total += 1
        sb.req_counts["%s %s" % (method, template)] += 1
        try:
            resp = await serve(request, sb, template, kind, route, m)
        except ConnectionResetError as e:
            sb.status_counts["truncated" if "truncate" in str(e) else "reset"] += 1
            raise
        finally:
            # the response is rendered: triggers/churn due now change the data for the next request
            sb.changer.after_request(path, request.get("sbx_records", 0))
        sb.status_counts[str(resp.status)] += 1
        if resp.status >= 300:
            sb.error_counts["%d %s %s" % (resp.status, method, template)] += 1
        return resp

    app.router.add_route("*", "/{tail:.*}", handle)
    return app


async def serve(request: web.Request, sb, template: str, kind: str, route, m) -> web.StreamResponse:
    path = request.path
    method = request.method
    # ---- faults that replace the response
    active = [f for f in sb.faults if f.applies(template, path, sb.fault_rng)] if sb.faults else []
    body_faults = []
    truncate = malformed = False
    for f in active:
        if f.kind == "latency":
            await asyncio.sleep(f.ms / 1000)
        elif f.kind == "reset":
            request.transport.abort()
            raise ConnectionResetError("sandbox fault: reset")
        elif f.kind == "status":
            return error_response(error_for(kind, template, f.status, "Sandbox injected fault: HTTP %d" % f.status))
        elif f.kind == "429":
            return error_response(error_for(kind, template, 429, "Too many requests"))
        elif f.kind == "truncate":
            truncate = True
        elif f.kind == "malformed":
            malformed = True
        elif f.kind == "token_expiry":
            tok = bearer(request)
            if tok:
                sb.tokens.pop(tok, None)
                sb.tokens[tok] = (None, "expired", 0)
        else:
            body_faults.append(f)
    client = request.remote or "local"
    # ---- auth endpoints
    if kind == "auth":
        ok, _h = sb.limiter.check("auth", template, client)
        if not ok:
            return error_response(error_for(kind, template, 429, "Too many requests"))
        resp = await token_endpoint(request, sb, template)
        return await finish(request, resp, truncate, malformed)
    # ---- rate limits
    tok = bearer(request)
    ok, rl_headers = sb.limiter.check(kind, template, (tok or client) if kind == "v2" else client)
    if not ok:
        return error_response(error_for(kind, template, 429, "Too many requests. Please retry later."), rl_headers)
    if route is None or method != "GET":
        if route is None:
            e = error_for(kind, template, 404, "The requested resource was not found")
        else:
            e = error_for(kind, template, 405, "Method not allowed")
        return error_response(e, rl_headers)
    # ---- token
    cred, err = check_token(sb, tok, kind)
    if err is not None:
        return error_response(err, rl_headers)
    blocked = gate(sb.company, cred, path)  # a module not booked or a right missing (tenant profiles, §10.2)
    if blocked is not None:
        return error_response(blocked, rl_headers)
    if route.scope and route.scope not in cred.scopes:
        if kind == "v2":
            e = v2_error(403, "The access token does not have the required scope '%s'" % route.scope)
        else:
            e = v1_error(403, "Forbidden: the API credential lacks the scope '%s'" % V1_SCOPE_OF.get(route.scope, route.scope))
        return error_response(e, rl_headers)
    headers = dict(rl_headers)
    if kind == "v1":
        headers["Authorization"] = "Bearer " + tok  # Personio still echoes the (same) token
    base = "%s://%s" % (request.scheme, request.host)
    c = sb.company
    with c.lock:  # one consistent state per response (mutations take the same lock)
        if sb.cache_version != c.version:
            sb.cache.clear()
            sb.cache_bytes = 0
            sb.cache_version = c.version
        if not body_faults:
            key = (request.path_qs, cred.cache_key, base)
            hit = sb.cache.get(key)
            if hit is None:
                status, body, ctype = render_route(sb, route, m, request, cred, base)
                hit = (status, orjson.dumps(body), ctype, record_count(route, status, body))
                if status == 200:
                    if sb.cache_bytes + len(hit[1]) > CACHE_MAX_BYTES:
                        sb.cache.clear()
                        sb.cache_bytes = 0
                    sb.cache[key] = hit
                    sb.cache_bytes += len(hit[1])
            status, raw, ctype, nrec = hit
        else:
            status, body, ctype = render_route(sb, route, m, request, cred, base)
            if status == 200:
                body = apply_body_faults(sb, body_faults, route, m, request, cred, base, body)
            raw = orjson.dumps(body)
            nrec = record_count(route, status, body)
    request["sbx_records"] = nrec
    resp = web.Response(status=status, body=raw, content_type=ctype, headers=headers)
    return await finish(request, resp, truncate, malformed)


def record_count(route, status: int, body) -> int:
    """Records a response carries (for ``after_records`` triggers): list records, 1 for one object."""
    if status != 200:
        return 0
    if route.list_kind:
        try:
            recs = records_of(body, route.list_kind)
            return len(recs) if isinstance(recs, list) else 1
        except (KeyError, IndexError, TypeError):
            return 0
    return 1


def render_route(sb, route, m, request, cred, base):
    q = parse_query(request.query_string)
    ctx = Ctx(sb.company, request.path, q, cred, base, sb.relative_attendance_links, m, sb.strict_booleans)
    try:
        status, body = route.handler(ctx)
        return status, body, "application/json"
    except ApiError as e:
        return e.status, e.body, e.content_type


async def finish(request: web.Request, resp: web.Response, truncate: bool, malformed: bool) -> web.StreamResponse:
    if malformed:
        resp = web.Response(status=200, body=b'{"success": true, "data": [{"type": "Employee", "attributes": {"id": ',
                            content_type="application/json")
    if truncate and resp.body:
        raw = resp.body
        sr = web.StreamResponse(status=resp.status, headers={"Content-Type": resp.content_type})
        sr.content_length = len(raw)
        await sr.prepare(request)
        await sr.write(raw[: max(1, len(raw) // 2)])
        request.transport.close()
        raise ConnectionResetError("sandbox fault: truncate")
    return resp
