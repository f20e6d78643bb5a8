"""Rate limits: the documented v1/auth limits (§5.3) and per-endpoint v2 token buckets with the
``x-ratelimit-*`` headers a third party observed; configurable or off."""
from __future__ import annotations

import json
import time


DOCUMENTED = {
    "v1_overall_per_min": 2000, "v1_employees_per_min": 300, "v1_employees_burst_per_s": 15,
    "v1_auth_per_min": 60, "v1_auth_cooldown_s": 60, "v2_auth_per_min": 150, "v2_auth_penalty_s": 60,
    "v2_default_per_s": 10, "v2": {"/v2/persons": 30, "/v2/absence-periods": 10},
}


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
