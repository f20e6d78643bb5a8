"""The request context handed to every resource handler, query parsing and per-data-version caches."""
from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from . import data as D
from .auth import FULL, Credential
from .errors import v1_error, v2_error


@dataclass
class Ctx:
    company: D.Company
    path: str
    params: dict[str, list[str]]
    cred: Credential = FULL
    base_url: str = "http://127.0.0.1"
    relative_attendance_links: bool = False
    match: dict = field(default_factory=dict)
    # False: time-offs carry half_day_start/half_day_end as 0/1 like the real API (issue 2; the official
    # schema says boolean). True (--spec-strict-booleans): booleans, as the schema declares.
    strict_booleans: bool = False

    def get(self, name: str, default=None):
        v = self.params.get(name)
        return v[-1] if v else default

    def getlist(self, name: str) -> list[str]:
        out = []
        for v in self.params.get(name, []):
            out.extend(x for x in v.split(",") if x != "")
        return out


def parse_query(qs: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for k, v in parse_qsl(qs, keep_blank_values=True):
        out.setdefault(k, []).append(v)
    return out


def ensure_indexes(c: D.Company) -> None:
    if getattr(c, "_idx_version", None) == c.version:
        return
    c._cand_idx = {x["id"]: x for x in c.candidates}
    c._job_idx = {x["id"]: x for x in c.jobs}
    c._app_idx = {x["id"]: x for x in c.applications}
    c._abs_uuid = {a["uuid"]: a for a in c.absences.values()}
    c._person_index = {eid: i for i, eid in enumerate(c.person_order)}
    c._idx_version = c.version


def memo(ctx: "Ctx", fn):
    """Cache a handler's full filtered list per (path, filters without paging params, data version)."""
    c = ctx.company
    store = getattr(c, "_memo", None)
    if store is None or getattr(c, "_memo_version", None) != c.version:
        store = c._memo = {}
        c._memo_version = c.version
    key = (ctx.path, tuple(sorted((k, tuple(v)) for k, v in ctx.params.items()
                                  if k not in ("cursor", "limit", "offset", "page"))), ctx.cred.cache_key)
    hit = store.get(key)
    if hit is None:
        if len(store) > 2000:
            store.clear()
        hit = store[key] = fn()
    return hit


def per_version(c: D.Company, name: str, build):
    """A value derived from the whole company (an index, a report's rows), built once per data version:
    every mutation bumps ``Company.version``, which drops them all. Callers must not modify the value."""
    if getattr(c, "_derived_version", None) != c.version:
        c._derived = {}
        c._derived_version = c.version
    store = c._derived
    if name not in store:
        store[name] = build()
    return store[name]


# ------------------------------------------------------------------ parsing helpers
def parse_int(v, name: str, err, lo: int | None = None, hi: int | None = None, default=None):
    if v is None or v == "":
        return default
    try:
        n = int(v)
    except (TypeError, ValueError):
        raise err("Invalid %s: %r is not an integer" % (name, v))
    if (lo is not None and n < lo) or (hi is not None and n > hi):
        rng = "between %s and %s" % (lo, hi) if hi is not None else "at least %s" % lo
        raise err("Invalid %s: %s must be %s" % (name, name, rng))
    return n


def v1_bad(msg):
    return v1_error(400, msg)


def v2_bad(msg):
    return v2_error(400, msg)


def parse_dt(v: str, err, allow_z: bool = True) -> int:
    """Parse an ISO date or date-time (naive = UTC) into epoch seconds."""
    s = v.strip()
    if not allow_z and (s.endswith("Z") or s.endswith("z")):
        raise err("Invalid request content")  # §10.5 [FORUM]: attendance-period filters reject a "Z"
    try:
        if len(s) == 10:
            d = _dt.datetime.strptime(s, "%Y-%m-%d")
        else:
            d = _dt.datetime.fromisoformat(s.replace("Z", "+00:00").replace(" ", "T"))
    except ValueError:
        raise err("Invalid date-time: %r" % v)
    if d.tzinfo is None:
        d = d.replace(tzinfo=_dt.timezone.utc)
    return int(d.timestamp())


def parse_date(v: str, err) -> int:
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", v or ""):
        raise err("Invalid date %r: expected format YYYY-MM-DD" % v)
    try:
        return D.day_epoch(v)
    except ValueError:
        raise err("Invalid date %r" % v)
