"""Changes at an exact moment of a read (triggers) and changes all the time (churn).

Both are checked after every answered API request (control endpoints under ``/_sandbox`` do not count),
under the company lock, right after the response was rendered: a trigger that fires after the N-th
matching request changes the data before the (N+1)-th request is rendered, so the N-th response shows
the old data and every later one the new.

* A trigger counts the requests whose path starts with its ``path`` (any request if none; every answered
  request counts, whatever its status) or the records those responses carried (``after_records``: list
  records, 1 for a single object, 0 for an error), from the moment it was created, and fires once.
* Churn applies a mix of mutations every ``every_requests`` API requests, or every ``interval_s`` seconds
  (an asyncio task of the server), with its own RNG seeded from ``--seed``.
"""
from __future__ import annotations

import itertools
import random
import time
from dataclasses import dataclass, field

from . import mutate as M

_ids = itertools.count(1)


@dataclass
class Trigger:
    mutation: dict
    after_requests: int | None = None
    after_records: int | None = None
    path: str | None = None
    exact: bool = False  # path must equal the request path (default: a prefix of it)
    id: str = field(default_factory=lambda: "trg-%d" % next(_ids))
    requests: int = 0
    records: int = 0
    fired: bool = False
    fired_at_request: int | None = None
    fired_at: float | None = None
    result: dict | None = None

    @classmethod
    def parse(cls, d: dict) -> "Trigger":
        if not isinstance(d, dict):
            raise ValueError("a trigger is a JSON object")
        d = dict(d)
        mutation = d.pop("mutation", None)
        if mutation is None:
            raise ValueError("a trigger needs a 'mutation'")
        M.validate(mutation)
        ar, rec = d.pop("after_requests", None), d.pop("after_records", None)
        if (ar is None) == (rec is None):
            raise ValueError("give exactly one of after_requests and after_records")
        path = d.pop("path", None) or None
        exact = bool(d.pop("exact", False))
        if d:
            raise ValueError("unknown trigger keys %s" % sorted(d))
        t = cls(dict(mutation), None if ar is None else int(ar), None if rec is None else int(rec), path, exact)
        if (t.after_requests or 0) < 0 or (t.after_records or 0) < 0:
            raise ValueError("after_requests/after_records must not be negative")
        return t

    def matches(self, path: str) -> bool:
        if self.path is None:
            return True
        return path == self.path if self.exact else path.startswith(self.path)

    def due(self) -> bool:
        if self.fired:
            return False
        if self.after_requests is not None:
            return self.requests >= self.after_requests
        return self.records >= self.after_records

    def to_json(self) -> dict:
        out = {"id": self.id, "path": self.path, "exact": self.exact, "after_requests": self.after_requests,
               "after_records": self.after_records, "mutation": self.mutation, "fired": self.fired,
               "fired_at_request": self.fired_at_request, "requests_seen": self.requests,
               "records_seen": self.records}
        if self.result is not None:
            out["result"] = {k: self.result[k] for k in ("created", "updated", "deleted")}
        return out


def parse_churn(spec: str) -> list[dict]:
    """``"employees=update:5,create:1,delete:1;absences=update:3"`` -> a list of mutation dicts."""
    out = []
    for part in (spec or "").split(";"):
        part = part.strip()
        if not part:
            continue
        if "=" not in part:
            raise ValueError("churn part %r: expected resource=op:count,..." % part)
        res, ops = part.split("=", 1)
        m = {"resource": res.strip()}
        for op in ops.split(","):
            op = op.strip()
            if not op:
                continue
            k, _, v = op.partition(":")
            k = k.strip()
            if k not in ("create", "update", "delete") or not v.strip().isdigit():
                raise ValueError("churn op %r: expected create:N, update:N or delete:N" % op)
            m[k] = int(v)
        M.validate(m)
        out.append(m)
    if not out:
        raise ValueError("empty churn spec")
    return out


class Changer:
    """Triggers and churn of one server; ``after_request`` is called for every answered API request."""

    def __init__(self, company, seed: int = 1, churn: list[dict] | None = None,
                 every_requests: int | None = None, interval_s: float | None = None):
        self.c = company
        self.triggers: list[Trigger] = []
        self.requests = 0  # API requests answered since start (never reset)
        self.churn = churn or []
        self.every_requests = every_requests
        self.interval_s = interval_s
        self.churn_rng = random.Random(seed * 7907 + 3)
        self.churn_rounds = 0
        if self.churn and not every_requests and not interval_s:
            self.every_requests = 10

    def add(self, d: dict) -> Trigger:
        t = Trigger.parse(d)
        with self.c.lock:
            self.triggers.append(t)
            if t.due():  # after_requests 0: fire now
                self._fire(t)
        return t

    def _fire(self, t: Trigger) -> None:
        t.result = M.apply(self.c, t.mutation, source="trigger " + t.id, request=self.requests)
        t.fired, t.fired_at_request, t.fired_at = True, self.requests, time.time()

    def configure_churn(self, churn, every_requests=None, interval_s=None) -> None:
        """Replace the churn mix (a spec string or a list of mutation dicts; empty/None = off)."""
        if isinstance(churn, str):
            mix = parse_churn(churn) if churn.strip() else []
        else:
            mix = [M.validate(dict(m)) for m in (churn or [])]
        with self.c.lock:
            self.churn = mix
            self.every_requests = int(every_requests) if every_requests else None
            self.interval_s = float(interval_s) if interval_s else None
            if self.churn and not self.every_requests and not self.interval_s:
                self.every_requests = 10

    def clear(self) -> None:
        with self.c.lock:
            self.triggers = []

    def after_request(self, path: str, records: int) -> bool:
        """Count one answered request; fire due triggers and churn. True if data changed."""
        changed = False
        with self.c.lock:
            self.requests += 1
            for t in self.triggers:
                if t.fired or not t.matches(path):
                    continue
                t.requests += 1
                t.records += records
                if t.due():
                    self._fire(t)
                    changed = True
            if self.churn and self.every_requests and self.requests % self.every_requests == 0:
                self.churn_round()
                changed = True
        return changed

    async def run_interval(self) -> None:
        """Churn every ``interval_s`` seconds (runs as a task of the server's event loop)."""
        import asyncio
        while True:
            await asyncio.sleep(self.interval_s or 0.5)
            if self.churn and self.interval_s:
                self.churn_round()

    def churn_round(self) -> None:
        with self.c.lock:
            self.churn_rounds += 1
            for m in self.churn:
                spec = dict(m, seed=self.churn_rng.getrandbits(32)) if "seed" not in m else m
                M.apply(self.c, spec, source="churn", request=self.requests)

    def to_json(self) -> dict:
        return {"requests": self.requests, "churn": self.churn, "churn_every_requests": self.every_requests,
                "churn_interval_s": self.interval_s, "churn_rounds": self.churn_rounds}
