"""aiohttp server: auth, rate limits, faults, page cache, stats and /_sandbox control endpoints."""
from __future__ import annotations

import asyncio
import json
import logging
import math
import random
import re
import secrets
import time
from collections import Counter
from dataclasses import dataclass
from urllib.parse import parse_qsl, parse_qs, urlencode, urlsplit, urlunsplit

import orjson
from aiohttp import web

from . import api
from .api import Credential, V2_SCOPES
from . import data as D
from . import mutate as M
from . import truth as T
from .triggers import Changer, parse_churn

log = logging.getLogger("personio_sandbox")

CACHE_MAX_BYTES = 256 * 1024 * 1024  # serialized pages kept until a mutation (or this bound)

DOCUMENTED = {
    "v1_overall_per_min": 2000, "v1_employees_per_min": 300, "v1_employees_burst_per_s": 15,
    "v1_auth_per_min": 60, "v1_auth_cooldown_s": 60, "v2_auth_per_min": 150, "v2_auth_penalty_s": 60,
    "v2_default_per_s": 10, "v2": {"/v2/persons": 30, "/v2/absence-periods": 10},
}


# ------------------------------------------------------------------ rate limits
class Bucket:
    __slots__ = ("rate", "cap", "tokens", "t")

    def __init__(self, rate: float, cap: float):
        self.rate, self.cap, self.tokens, self.t = rate, cap, cap, time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.cap, self.tokens + (now - self.t) * self.rate)
        self.t = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


class Window:
    __slots__ = ("limit", "span", "start", "n")

    def __init__(self, limit: int, span: float):
        self.limit, self.span, self.start, self.n = limit, span, time.monotonic(), 0

    def take(self) -> bool:
        now = time.monotonic()
        if now - self.start >= self.span:
            self.start, self.n = now, 0
        if self.n >= self.limit:
            return False
        self.n += 1
        return True


class RateLimiter:
    def __init__(self, spec="documented"):
        self.configure(spec)

    def configure(self, spec) -> None:
        if isinstance(spec, str):
            spec = spec.strip()
            if spec.startswith("{"):
                spec = json.loads(spec)
            elif spec not in ("documented", "off"):
                with open(spec) as f:
                    spec = json.load(f)
        if isinstance(spec, dict):
            cfg = json.loads(json.dumps(DOCUMENTED))
            base = spec.get("profile", "documented")
            self.enabled = base != "off"
            for k, v in spec.items():
                if k == "v2":
                    cfg["v2"].update(v)
                elif k != "profile":
                    cfg[k] = v
            self.enabled = True if any(k != "profile" for k in spec) else self.enabled
        else:
            cfg = json.loads(json.dumps(DOCUMENTED))
            self.enabled = spec != "off"
        self.cfg = cfg
        self.state: dict = {}
        self.cooldown: dict = {}

    def _get(self, key, factory):
        s = self.state.get(key)
        if s is None:
            s = self.state[key] = factory()
        return s

    def check(self, api_kind: str, template: str, client: str) -> tuple[bool, dict]:
        """Return (allowed, headers)."""
        if not self.enabled:
            return True, {}
        cfg = self.cfg
        now = time.monotonic()
        if template == "/v1/auth":
            until = self.cooldown.get(("v1auth", client), 0)
            if now < until:
                return False, {}
            ok = self._get(("v1auth", client), lambda: Window(cfg["v1_auth_per_min"], 60)).take()
            if not ok:
                self.cooldown[("v1auth", client)] = now + cfg["v1_auth_cooldown_s"]
            return ok, {}
        if template == "/v2/auth/token":
            until = self.cooldown.get(("v2auth", client), 0)
            if now < until:
                return self._get(("v2auth-penalty", client), lambda: Bucket(1, 1)).take(), {}
            ok = self._get(("v2auth", client), lambda: Window(cfg["v2_auth_per_min"], 60)).take()
            if not ok:
                self.cooldown[("v2auth", client)] = now + cfg["v2_auth_penalty_s"]
                self.state.pop(("v2auth", client), None)
            return ok, {}
        if api_kind == "v1":
            if not self._get(("v1", client), lambda: Window(cfg["v1_overall_per_min"], 60)).take():
                return False, {}
            if template == "/v1/company/employees":
                if not self._get(("v1emp-burst", client), lambda: Bucket(cfg["v1_employees_burst_per_s"],
                                                                        cfg["v1_employees_burst_per_s"])).take():
                    return False, {}
                if not self._get(("v1emp", client), lambda: Window(cfg["v1_employees_per_min"], 60)).take():
                    return False, {}
            return True, {}
        rate = cfg["v2"].get(template, cfg["v2_default_per_s"])
        b = self._get(("v2", template, client), lambda: Bucket(rate, rate))
        ok = b.take()
        return ok, {"x-ratelimit-replenish-rate": str(rate), "x-ratelimit-burst-capacity": str(rate),
                    "x-ratelimit-requested-tokens": "1", "x-ratelimit-remaining": str(max(0, int(b.tokens)))}


# ------------------------------------------------------------------ faults
FAULT_KINDS = {"status", "429", "latency", "reset", "truncate", "malformed", "token_expiry", "duplicates", "drift",
               "repeat_cursor", "unknown_fields", "null_objects", "empty_string_objects"}
BODY_FAULTS = {"duplicates", "drift", "repeat_cursor", "unknown_fields", "null_objects", "empty_string_objects"}


def _norm(template: str) -> str:
    """Path template with placeholder names dropped: /v2/persons/{person_id} -> /v2/persons/{}."""
    return re.sub(r"\{[^}]*\}", "{}", template)


@dataclass
class Fault:
    kind: str
    status: int = 503
    ms: int = 1000
    path: str | None = None
    rate: float = 1.0
    count: int | None = None
    after: int = 0
    seen: int = 0
    fired: int = 0

    @classmethod
    def parse(cls, spec) -> "Fault":
        if isinstance(spec, str):
            spec = dict(kv.split("=", 1) for kv in spec.split(",") if kv.strip())
        d = dict(spec)
        kind = str(d.pop("kind"))
        if kind not in FAULT_KINDS:
            raise ValueError("unknown fault kind %r (known: %s)" % (kind, sorted(FAULT_KINDS)))
        f = cls(kind=kind)
        if "status" in d:
            f.status = int(d.pop("status"))
        if "ms" in d:
            f.ms = int(d.pop("ms"))
        if "path" in d:
            f.path = d.pop("path") or None
        if "rate" in d:
            f.rate = float(d.pop("rate"))
        if "count" in d:
            f.count = None if d["count"] in (None, "") else int(d["count"])
            d.pop("count")
        if "after" in d:
            f.after = int(d.pop("after"))
        if d:
            raise ValueError("unknown fault keys %s" % sorted(d))
        return f

    def applies(self, template: str, path: str, rng: random.Random) -> bool:
        if self.path:
            fp = _norm(self.path)
            if not (_norm(template) == fp or path.startswith(self.path) or _norm(template).startswith(fp)):
                return False
        self.seen += 1
        if self.seen <= self.after:
            return False
        if self.count is not None and self.fired >= self.count:
            return False
        if self.rate < 1 and rng.random() >= self.rate:
            return False
        self.fired += 1
        return True


# ------------------------------------------------------------------ state
class Sandbox:
    def __init__(self, company: D.Company, credentials: list[Credential], token_ttl: int = 86400,
                 rate_limits="documented", faults=(), relative_attendance_links: bool = False, seed: int = 1,
                 strict_booleans: bool = False, churn: str | None = None, churn_every_requests: int | None = None,
                 churn_interval_s: float | None = None):
        self.company = company
        # triggers and churn: data changes while serving (see personio_sandbox.triggers)
        self.changer = Changer(company, seed, parse_churn(churn) if churn else None, churn_every_requests,
                               churn_interval_s)
        self.creds = {c.client_id: c for c in credentials}
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
        self.total = 0

    def issue_token(self, cred: Credential, kind: str) -> str:
        tok = "papi-" + secrets.token_hex(24)
        self.tokens[tok] = (cred, kind, time.time() + self.token_ttl)
        self.issued.append(tok)
        return tok


def _json(status: int, body, content_type="application/json", headers=None) -> web.Response:
    return web.Response(status=status, body=orjson.dumps(body), content_type=content_type, headers=headers)


def _err_response(e: api.ApiError, headers=None) -> web.Response:
    return _json(e.status, e.body, e.content_type, headers)


async def _form_or_json(request: web.Request) -> tuple[dict, str]:
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


# ------------------------------------------------------------------ app
def make_app(sb: Sandbox) -> web.Application:
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
            route, m = api.match(path)
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
        return resp

    app.router.add_route("*", "/{tail:.*}", handle)
    return app


def _v1_or_v2_error(kind: str, template: str, status: int, msg: str) -> api.ApiError:
    if template.startswith("/v2/auth"):
        return api.oauth_error("temporarily_unavailable" if status >= 429 else "invalid_request", msg, status)
    if kind == "v2" or template.startswith("/v2"):
        return api.v2_error(status, msg)
    if template.startswith("/v1/company/custom-reports"):
        return api.reports_error(status, api.ERROR_TITLES.get(status, ("Error", ""))[0], msg)
    return api.v1_error(status, msg)


async def serve(request: web.Request, sb: Sandbox, template: str, kind: str, route, m) -> web.StreamResponse:
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
            return _err_response(_v1_or_v2_error(kind, template, f.status, "Sandbox injected fault: HTTP %d" % f.status))
        elif f.kind == "429":
            return _err_response(_v1_or_v2_error(kind, template, 429, "Too many requests"))
        elif f.kind == "truncate":
            truncate = True
        elif f.kind == "malformed":
            malformed = True
        elif f.kind == "token_expiry":
            tok = _bearer(request)
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
            return _err_response(_v1_or_v2_error(kind, template, 429, "Too many requests"))
        resp = await auth(request, sb, template)
        return await finish(request, resp, truncate, malformed)
    # ---- rate limits
    tok = _bearer(request)
    ok, rl_headers = sb.limiter.check(kind, template, (tok or client) if kind == "v2" else client)
    if not ok:
        return _err_response(_v1_or_v2_error(kind, template, 429, "Too many requests. Please retry later."), rl_headers)
    if route is None or method != "GET":
        if route is None:
            e = _v1_or_v2_error(kind, template, 404, "The requested resource was not found")
        else:
            e = _v1_or_v2_error(kind, template, 405, "Method not allowed")
        return _err_response(e, rl_headers)
    # ---- token
    cred, err = check_token(sb, tok, kind)
    if err is not None:
        return _err_response(err, rl_headers)
    if route.scope and route.scope not in cred.scopes:
        if kind == "v2":
            e = api.v2_error(403, "The access token does not have the required scope '%s'" % route.scope)
        else:
            e = api.v1_error(403, "Forbidden: the API credential lacks the scope '%s'" % api.V1_SCOPE_OF.get(route.scope, route.scope))
        return _err_response(e, rl_headers)
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
                status, body, ctype = _render(sb, route, m, request, cred, base)
                hit = (status, orjson.dumps(body), ctype, _record_count(route, status, body))
                if status == 200:
                    if sb.cache_bytes + len(hit[1]) > CACHE_MAX_BYTES:
                        sb.cache.clear()
                        sb.cache_bytes = 0
                    sb.cache[key] = hit
                    sb.cache_bytes += len(hit[1])
            status, raw, ctype, nrec = hit
        else:
            status, body, ctype = _render(sb, route, m, request, cred, base)
            if status == 200:
                body = apply_body_faults(sb, body_faults, route, m, request, cred, base, body)
            raw = orjson.dumps(body)
            nrec = _record_count(route, status, body)
    request["sbx_records"] = nrec
    resp = web.Response(status=status, body=raw, content_type=ctype, headers=headers)
    return await finish(request, resp, truncate, malformed)


def _record_count(route, status: int, body) -> int:
    """Records a response carries (for ``after_records`` triggers): list records, 1 for one object."""
    if status != 200:
        return 0
    if route.list_kind:
        try:
            recs = api.records_of(body, route.list_kind)
            return len(recs) if isinstance(recs, list) else 1
        except (KeyError, IndexError, TypeError):
            return 0
    return 1


def _render(sb: Sandbox, route, m, request, cred, base):
    q = api.parse_query(request.query_string)
    ctx = api.Ctx(sb.company, request.path, q, cred, base, sb.relative_attendance_links, m, sb.strict_booleans)
    try:
        status, body = route.handler(ctx)
        return status, body, "application/json"
    except api.ApiError as e:
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


def _bearer(request: web.Request) -> str | None:
    h = request.headers.get("Authorization", "")
    if h[:7].lower() == "bearer ":
        return h[7:].strip() or None
    return None


def check_token(sb: Sandbox, tok: str | None, kind: str):
    if not tok:
        if kind == "v2":
            return None, api.v2_error(401, "Authorization is not provided")
        return None, api.v1_error(401, "Authorization is not provided")
    entry = sb.tokens.get(tok)
    if entry is None or entry[1] not in (kind, "expired"):
        if kind == "v2":
            return None, api.v2_error(401, "The provided access token is not valid")
        return None, api.v1_error(403, "Provided authorization is not valid")
    cred, k, exp = entry
    if k == "expired" or time.time() >= exp:
        sb.tokens[tok] = (None, "expired", 0)  # stays expired (401) until the client re-authenticates
        if kind == "v2":
            return None, api.v2_error(401, "The provided access token has expired")
        return None, api.v1_error(401, "The provided token has expired")
    return cred, None


async def auth(request: web.Request, sb: Sandbox, template: str) -> web.Response:
    if template == "/v1/auth":
        if request.method != "POST":
            return _err_response(api.v1_error(405, "Method not allowed"))
        qs = request.query
        if "client_id" in qs or "client_secret" in qs:
            return _err_response(api.v1_error(403, "Credentials must be sent in the request body, not in the query string"))
        body, how = await _form_or_json(request)
        cid, secret = body.get("client_id"), body.get("client_secret")
        if not cid or not secret:
            return _err_response(api.v1_error(400, "client_id and client_secret are required"))
        cred = sb.creds.get(str(cid))
        if cred is None or not secrets.compare_digest(cred.client_secret, str(secret)):
            return _err_response(api.v1_error(403, "Wrong credentials", 0))
        tok = sb.issue_token(cred, "v1")
        return _json(200, {"success": True, "data": {"token": tok, "expires_in": sb.token_ttl,
                                                      "scope": " ".join(cred.v1_scopes)}},
                     headers={"Authorization": "Bearer " + tok})
    if request.method != "POST":
        return _err_response(api.oauth_error("invalid_request", "Method not allowed", 405))
    if request.content_type != "application/x-www-form-urlencoded":
        return _err_response(api.oauth_error("invalid_request", "Content-Type must be application/x-www-form-urlencoded"))
    body, _ = await _form_or_json(request)
    if template == "/v2/auth/revoke":
        tok = body.get("token")
        if not tok:
            return _err_response(api.oauth_error("invalid_request", "Missing form field 'token'"))
        sb.tokens.pop(tok, None)
        return web.Response(status=200)
    if body.get("grant_type") != "client_credentials":
        return _err_response(api.oauth_error("unsupported_grant_type", "Only grant_type=client_credentials is supported"))
    cid, secret = body.get("client_id"), body.get("client_secret")
    if not cid or not secret:
        return _err_response(api.oauth_error("invalid_request", "client_id and client_secret are required"))
    cred = sb.creds.get(cid)
    if cred is None or not secrets.compare_digest(cred.client_secret, secret):
        return _err_response(api.oauth_error("invalid_client", "The credentials were not correct. Make sure you are "
                                              "providing the right client_id and client_secret."))
    scopes = cred.scopes
    if body.get("scope"):
        req = set(body["scope"].split())
        if not req <= set(cred.scopes):
            return _err_response(api.oauth_error("invalid_scope", "Requested scope is not available to this client: %s"
                                                 % " ".join(sorted(req - set(cred.scopes)))))
        scopes = frozenset(req)
    tcred = Credential(cred.client_id, cred.client_secret, frozenset(scopes), cred.attributes)
    tok = sb.issue_token(tcred, "v2")
    return _json(200, {"access_token": tok, "token_type": "Bearer", "expires_in": sb.token_ttl,
                       "scope": " ".join(s for s in V2_SCOPES if s in scopes)})


# ------------------------------------------------------------------ body faults
def apply_body_faults(sb: Sandbox, faults, route, m, request, cred, base, body):
    body = orjson.loads(orjson.dumps(body))  # never alter cached/shared records
    for f in faults:
        k = f.kind
        lk = route.list_kind
        if k == "duplicates" and lk in ("v1", "v1page") and body.get("data"):
            q = api.parse_query(request.query_string)
            prev = None
            if lk == "v1":
                off = int((q.get("offset") or ["0"])[-1] or 0)
                if off > 0:
                    q2 = dict(q, offset=[str(off - 1)], limit=["1"])
                    ctx = api.Ctx(sb.company, request.path, q2, cred, base, False, m, sb.strict_booleans)
                    prev = route.handler(ctx)[1]["data"][:1]
            else:
                page = max(int((q.get("offset") or ["0"])[-1] or 0), 1)
                if page > 1:
                    q2 = dict(q, offset=[str(page - 1)])
                    ctx = api.Ctx(sb.company, request.path, q2, cred, base, False, m, sb.strict_booleans)
                    prev = route.handler(ctx)[1]["data"][-1:]
            if prev:
                body["data"] = prev + body["data"][:-1]
        elif k == "drift" and isinstance(body, dict) and "metadata" in body:
            md = body["metadata"]
            md["total_elements"] += f.fired
            lim = body.get("limit") or 1
            try:
                md["total_pages"] = math.ceil(md["total_elements"] / int(lim))
            except (TypeError, ValueError):
                pass
        elif k == "repeat_cursor" and lk == "v2":
            links = body["_meta"]["links"]
            if "next" in links:
                href = links["next"]["href"]
                parts = urlsplit(href)
                q = parse_qsl(parts.query, keep_blank_values=True)
                cur = request.query.get("cursor") or api.encode_cursor((0, 0))
                q = [(a, cur if a == "cursor" else b) for a, b in q]
                links["next"]["href"] = urlunsplit(parts._replace(query=urlencode(q)))
        elif k in ("unknown_fields", "null_objects", "empty_string_objects"):
            recs = api.records_of(body, lk) if lk else None
            if isinstance(recs, list):
                for r in recs:
                    _shape(r, k)
            elif isinstance(body, dict):
                _shape(body.get("data", body), k)
            if k == "unknown_fields" and isinstance(body, dict):
                body["_sandbox_extra"] = {"note": "unexpected envelope field"}
    return body


def _shape(r, kind):
    if not isinstance(r, dict):
        return
    if kind == "unknown_fields":
        r["sandbox_unknown_field"] = {"nested": [1, "two", None]}
        if isinstance(r.get("attributes"), dict):
            r["attributes"]["dynamic_999"] = {"label": "Unknown", "value": "x", "type": "standard", "universal_id": None}
        return
    repl = None if kind == "null_objects" else ""
    target = r["attributes"] if isinstance(r.get("attributes"), dict) else r
    for key, v in list(target.items()):
        if key in ("_meta", "id"):
            continue
        if isinstance(v, dict) and set(v) >= {"label", "value"}:  # v1 attribute object: blank the nested object value
            if isinstance(v["value"], (dict, list)):
                v["value"] = repl
        elif isinstance(v, dict):
            target[key] = repl


# ------------------------------------------------------------------ control endpoints
async def control(request: web.Request, sb: Sandbox) -> web.Response:
    p, meth = request.path, request.method
    try:
        if p == "/_sandbox/stats" and meth == "GET":
            return _json(200, {"requests": dict(sb.req_counts), "statuses": dict(sb.status_counts),
                               "records": sb.company.record_counts(), "requests_total": sb.total})
        if p == "/_sandbox/stats/reset" and meth == "POST":
            sb.reset_stats()
            return _json(200, {"ok": True})
        if p == "/_sandbox/dataset" and meth == "GET":
            path = request.query.get("path")
            if not path:
                return _json(400, {"error": "query parameter 'path' is required"})
            base = "%s://%s" % (request.scheme, request.host)
            cred = sb.creds.get(request.query.get("client_id", ""), api.FULL) if request.query.get("client_id") else api.FULL
            with sb.company.lock:
                recs = api.dataset(sb.company, path, cred, base, strict_booleans=sb.strict_booleans)
            return _json(200, {"records": recs})
        if p == "/_sandbox/mutate" and meth == "POST":
            b = orjson.loads(await request.read() or b"{}")
            out = M.apply(sb.company, b, source="mutate", request=sb.changer.requests)
            return _json(200, out)
        if p == "/_sandbox/triggers" and meth == "POST":
            b = orjson.loads(await request.read() or b"{}")
            made = [sb.changer.add(t) for t in (b if isinstance(b, list) else [b])]
            out = [t.to_json() for t in made]
            return _json(200, out if isinstance(b, list) else out[0])
        if p == "/_sandbox/triggers" and meth == "GET":
            return _json(200, {"triggers": [t.to_json() for t in sb.changer.triggers]})
        if p == "/_sandbox/triggers" and meth == "DELETE":
            sb.changer.clear()
            return _json(200, {"triggers": []})
        if p == "/_sandbox/churn" and meth == "GET":
            return _json(200, sb.changer.to_json())
        if p == "/_sandbox/churn" and meth == "PUT":
            b = orjson.loads(await request.read() or b"{}")
            sb.changer.configure_churn(b.get("churn"), b.get("every_requests"), b.get("interval_s"))
            return _json(200, sb.changer.to_json())
        if p == "/_sandbox/changes" and meth == "GET":
            since = int(request.query.get("since", 0) or 0)
            with sb.company.lock:
                changes = [x for x in sb.company.changes if x["seq"] > since]
            return _json(200, {"changes": changes, "requests": sb.changer.requests})
        if p.startswith("/_sandbox/truth/") and meth == "GET":
            resource = p[len("/_sandbox/truth/"):]
            if resource not in T.TRUTH:
                return _json(404, {"error": "unknown truth resource %r" % resource, "known": sorted(T.TRUTH)})
            base = "%s://%s" % (request.scheme, request.host)
            cid = request.query.get("client_id")
            cred = sb.creds.get(cid, api.FULL) if cid else api.FULL
            q = {k: v for k, v in request.query.items() if k != "client_id"}
            recs = T.truth(sb.company, resource, q, cred, base, sb.strict_booleans)
            return _json(200, {"records": recs, "count": len(recs)})
        if p == "/_sandbox/faults" and meth == "PUT":
            b = orjson.loads(await request.read() or b"[]")
            sb.faults = [Fault.parse(f) for f in (b if isinstance(b, list) else [b])]
            return _json(200, {"faults": len(sb.faults)})
        if p == "/_sandbox/faults" and meth == "DELETE":
            sb.faults = []
            return _json(200, {"faults": 0})
        if p == "/_sandbox/rate-limits" and meth == "PUT":
            b = orjson.loads(await request.read() or b"{}")
            sb.limiter.configure(b if len(b) != 1 or "profile" not in b else b["profile"])
            return _json(200, {"enabled": sb.limiter.enabled, "config": sb.limiter.cfg})
        if p == "/_sandbox/credentials" and meth == "POST":
            b = orjson.loads(await request.read() or b"{}")
            cred = credential_from(b)
            sb.creds[cred.client_id] = cred
            return _json(200, {"client_id": cred.client_id})
        if p == "/_sandbox/tokens" and meth == "GET":
            return _json(200, {"tokens": list(sb.issued)})
        if p == "/_sandbox/health":
            return _json(200, {"ok": True})
    except (ValueError, KeyError, TypeError, orjson.JSONDecodeError) as e:
        return _json(400, {"error": str(e)})
    return _json(404, {"error": "unknown control endpoint %s %s" % (meth, p)})


def credential_from(d) -> Credential:
    if isinstance(d, str):
        d = json.loads(d)
    scopes = d.get("scopes")
    if scopes is not None:
        bad = [s for s in scopes if s not in V2_SCOPES]
        if bad:
            raise ValueError("unknown scopes %s" % bad)
    attrs = d.get("attributes")
    return Credential(str(d["client_id"]), str(d["client_secret"]),
                      frozenset(scopes) if scopes is not None else frozenset(V2_SCOPES),
                      frozenset(attrs) | {"id"} if attrs is not None else None)
