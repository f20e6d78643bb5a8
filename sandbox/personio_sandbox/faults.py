"""Faults on demand: status codes, 429, latency, resets, truncation, malformed JSON, expired tokens and body
faults (duplicates across pages, count drift, repeated cursors, unknown fields, null/empty objects)."""
from __future__ import annotations

import math
import random
import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import orjson

from .api import records_of
from .context import Ctx, parse_query
from .paging import encode_cursor


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


def apply_body_faults(sb, faults, route, m, request, cred, base, body):
    body = orjson.loads(orjson.dumps(body))  # never alter cached/shared records
    for f in faults:
        k = f.kind
        lk = route.list_kind
        if k == "duplicates" and lk in ("v1", "v1page") and body.get("data"):
            q = parse_query(request.query_string)
            prev = None
            if lk == "v1":
                off = int((q.get("offset") or ["0"])[-1] or 0)
                if off > 0:
                    q2 = dict(q, offset=[str(off - 1)], limit=["1"])
                    ctx = Ctx(sb.company, request.path, q2, cred, base, False, m, sb.strict_booleans)
                    prev = route.handler(ctx)[1]["data"][:1]
            else:
                page = max(int((q.get("offset") or ["0"])[-1] or 0), 1)
                if page > 1:
                    q2 = dict(q, offset=[str(page - 1)])
                    ctx = Ctx(sb.company, request.path, q2, cred, base, False, m, sb.strict_booleans)
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
                cur = request.query.get("cursor") or encode_cursor((0, 0))
                q = [(a, cur if a == "cursor" else b) for a, b in q]
                links["next"]["href"] = urlunsplit(parts._replace(query=urlencode(q)))
        elif k in ("unknown_fields", "null_objects", "empty_string_objects"):
            recs = records_of(body, lk) if lk else None
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
