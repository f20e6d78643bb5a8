"""The ``/_sandbox/*`` control endpoints (no auth, never rate-limited or faulted, not counted)."""
from __future__ import annotations

import orjson
from aiohttp import web

from . import mutate as M
from . import truth as T
from .api import dataset
from .auth import credential_from
from .routes import all_routes
from .tenants import tenant_of, unavailable
from .faults import Fault
from .responses import json_response


def _cred(sb, client_id):
    """The credential ``?client_id=`` names (unknown ones fall back), else the sandbox's default credential."""
    return sb.creds.get(client_id, sb.default_cred) if client_id else sb.default_cred


async def control(request: web.Request, sb) -> web.Response:
    p, meth = request.path, request.method
    try:
        if p == "/_sandbox/stats" and meth == "GET":
            return json_response(200, {"requests": dict(sb.req_counts), "statuses": dict(sb.status_counts),
                               "errors": dict(sb.error_counts),
                               "records": sb.company.record_counts(), "requests_total": sb.total})
        if p == "/_sandbox/stats/reset" and meth == "POST":
            sb.reset_stats()
            return json_response(200, {"ok": True})
        if p == "/_sandbox/dataset" and meth == "GET":
            path = request.query.get("path")
            if not path:
                return json_response(400, {"error": "query parameter 'path' is required"})
            base = "%s://%s" % (request.scheme, request.host)
            cred = _cred(sb, request.query.get("client_id"))
            with sb.company.lock:
                recs = dataset(sb.company, path, cred, base, strict_booleans=sb.strict_booleans)
            return json_response(200, {"records": recs})
        if p == "/_sandbox/mutate" and meth == "POST":
            b = orjson.loads(await request.read() or b"{}")
            out = M.apply(sb.company, b, source="mutate", request=sb.changer.requests)
            return json_response(200, out)
        if p == "/_sandbox/triggers" and meth == "POST":
            b = orjson.loads(await request.read() or b"{}")
            made = [sb.changer.add(t) for t in (b if isinstance(b, list) else [b])]
            out = [t.to_json() for t in made]
            return json_response(200, out if isinstance(b, list) else out[0])
        if p == "/_sandbox/triggers" and meth == "GET":
            return json_response(200, {"triggers": [t.to_json() for t in sb.changer.triggers]})
        if p == "/_sandbox/triggers" and meth == "DELETE":
            sb.changer.clear()
            return json_response(200, {"triggers": []})
        if p == "/_sandbox/churn" and meth == "GET":
            return json_response(200, sb.changer.to_json())
        if p == "/_sandbox/churn" and meth == "PUT":
            b = orjson.loads(await request.read() or b"{}")
            sb.changer.configure_churn(b.get("churn"), b.get("every_requests"), b.get("interval_s"))
            return json_response(200, sb.changer.to_json())
        if p == "/_sandbox/changes" and meth == "GET":
            since = int(request.query.get("since", 0) or 0)
            with sb.company.lock:
                changes = [x for x in sb.company.changes if x["seq"] > since]
            return json_response(200, {"changes": changes, "requests": sb.changer.requests})
        if p.startswith("/_sandbox/truth/") and meth == "GET":
            resource = p[len("/_sandbox/truth/"):]
            if resource not in T.TRUTH:
                return json_response(404, {"error": "unknown truth resource %r" % resource, "known": sorted(T.TRUTH)})
            base = "%s://%s" % (request.scheme, request.host)
            cred = _cred(sb, request.query.get("client_id"))
            q = {k: v for k, v in request.query.items() if k != "client_id"}
            recs = T.truth(sb.company, resource, q, cred, base, sb.strict_booleans)
            out = {"records": recs, "count": len(recs)}
            gone = T.unavailable(sb.company, resource, cred)
            if gone is not None:  # this tenant / credential can not read it: no records, and why
                out["unavailable"] = gone
            return json_response(200, out)
        if p == "/_sandbox/tenant" and meth == "GET":
            cred = _cred(sb, request.query.get("client_id"))
            out = tenant_of(sb.company).to_json()
            out["unavailable"] = [u for u in (unavailable(sb.company, cred, r.template) for r in all_routes()) if u]
            return json_response(200, out)
        if p == "/_sandbox/faults" and meth == "PUT":
            b = orjson.loads(await request.read() or b"[]")
            sb.faults = [Fault.parse(f) for f in (b if isinstance(b, list) else [b])]
            return json_response(200, {"faults": len(sb.faults)})
        if p == "/_sandbox/faults" and meth == "DELETE":
            sb.faults = []
            return json_response(200, {"faults": 0})
        if p == "/_sandbox/rate-limits" and meth == "PUT":
            b = orjson.loads(await request.read() or b"{}")
            sb.limiter.configure(b if len(b) != 1 or "profile" not in b else b["profile"])
            return json_response(200, {"enabled": sb.limiter.enabled, "config": sb.limiter.cfg})
        if p == "/_sandbox/credentials" and meth == "POST":
            b = orjson.loads(await request.read() or b"{}")
            cred = credential_from(b)
            sb.creds[cred.client_id] = cred
            return json_response(200, {"client_id": cred.client_id})
        if p == "/_sandbox/tokens" and meth == "GET":
            return json_response(200, {"tokens": list(sb.issued)})
        if p == "/_sandbox/health":
            return json_response(200, {"ok": True})
    except (ValueError, KeyError, TypeError, orjson.JSONDecodeError) as e:
        return json_response(400, {"error": str(e)})
    return json_response(404, {"error": "unknown control endpoint %s %s" % (meth, p)})
