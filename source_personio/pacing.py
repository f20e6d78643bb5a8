"""Client-side pacing for Personio's rate limits, shared by every stream and worker of a sync.

Personio quirks this exists for:
* v1 limits are per client across *all* v1 endpoints (2,000/min), with a second, tighter limit on
  ``GET /v1/company/employees`` (300/min, bursts of 15/s): one request counts against two limits,
  which the CDK's ``HTTPAPIBudget`` cannot say (it applies the first matching policy only);
* v2 limits are token buckets per endpoint, announced on every response in
  ``x-ratelimit-replenish-rate`` / ``x-ratelimit-burst-capacity``; no official numbers exist, so
  the documented figures (persons 30/s, absence periods 10/s, others 10/s) are used until a
  response says otherwise;
* a 429 carries no ``Retry-After`` or reset header: the CDK's budget would then treat the whole
  window as exhausted (a 60 s stall); here a v2 429 only empties that endpoint's bucket and the
  error handler retries.

Each request waits (in its worker thread) until every limit that applies to it has room, then
takes its slot in all of them at once. Small margins keep the client just inside the server's
limits: windows are 1 s longer, buckets keep one token in reserve.

Installed by ``cdk_adaptations`` (adaptations ``shared_rate_limit_pacer``, ``bounded_partition_queue``,
``partitions_in_flight``).
"""

from __future__ import annotations

import bisect
import re
import threading
import time
from typing import Any, Callable, Dict, List, Mapping, Optional
from urllib.parse import urlsplit

import requests

from airbyte_cdk.sources.streams.call_rate import APIBudget

DOCUMENTED_LIMITS: Dict[str, Any] = {
    "v1_per_min": 2000,
    "v1_employees_per_min": 300,
    "v1_employees_burst_per_s": 15,
    "v2_default_per_s": 10,
    "v2_per_s": {"/v2/persons": 30, "/v2/absence-periods": 10},
}
WINDOW_MARGIN_S = 1.0
BUCKET_RESERVE = 1.0


class TokenBucket:
    """``rate`` tokens per second up to ``burst``; starts full. Times are absolute (monotonic)."""

    def __init__(self, rate: float, burst: float, now: float):
        self.rate, self.burst = float(rate), max(1.0, float(burst))
        self.tokens, self.t = self.burst, now

    def _tokens_at(self, at: float) -> float:
        return min(self.burst, self.tokens + max(0.0, at - self.t) * self.rate)

    def earliest(self, now: float) -> float:
        base = max(now, self.t)
        tokens = self._tokens_at(base)
        return base if tokens >= 1 else base + (1 - tokens) / self.rate

    def take(self, at: float) -> None:
        self.tokens, self.t = self._tokens_at(at) - 1, max(at, self.t)

    def drain(self, now: float) -> None:
        self.tokens, self.t = 0.0, max(now, self.t)


class MovingWindow:
    """At most ``limit`` requests in any ``span`` seconds."""

    def __init__(self, limit: int, span: float):
        self.limit, self.span = int(limit), float(span)
        self.grants: List[float] = []

    def earliest(self, now: float) -> float:
        if len(self.grants) < self.limit:
            return now
        return max(now, self.grants[-self.limit] + self.span)

    def take(self, at: float) -> None:
        bisect.insort(self.grants, at)
        if len(self.grants) > self.limit:
            del self.grants[: len(self.grants) - self.limit]


_ID_SEGMENT = re.compile(r"\d")


def endpoint_of(path: str) -> str:
    """``/v2/persons/123/employments`` -> ``/v2/persons/{}/employments``: Personio limits per endpoint."""
    version, _, rest = path.strip("/").partition("/")
    return "/" + "/".join([version] + ["{}" if _ID_SEGMENT.search(seg) else seg for seg in rest.split("/")])


class PersonioRateLimits(APIBudget):
    """An API budget (the CDK's ``HttpClient`` calls :meth:`acquire_call` before every attempt and
    :meth:`update_from_response` after it) that paces requests to Personio's rate limits."""

    def __init__(
        self,
        limits: Optional[Mapping[str, Any]] = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        super().__init__(policies=[])
        self.limits = {**DOCUMENTED_LIMITS, **(limits or {})}
        self._clock, self._sleep = clock, sleep
        self._lock = threading.Lock()
        self._v1 = MovingWindow(self.limits["v1_per_min"], 60 + WINDOW_MARGIN_S)
        self._employees = MovingWindow(self.limits["v1_employees_per_min"], 60 + WINDOW_MARGIN_S)
        burst = self.limits["v1_employees_burst_per_s"]
        self._employees_burst = TokenBucket(burst, burst - BUCKET_RESERVE, clock())
        self._v2: Dict[str, TokenBucket] = {}

    def _v2_bucket(self, endpoint: str, now: float) -> TokenBucket:
        bucket = self._v2.get(endpoint)
        if bucket is None:
            rate = self.limits["v2_per_s"].get(endpoint, self.limits["v2_default_per_s"])
            bucket = self._v2[endpoint] = TokenBucket(rate, rate - BUCKET_RESERVE, now)
        return bucket

    def limits_for(self, url: str, now: float) -> list:
        path = urlsplit(url).path
        version = path.find("/v1/"), path.find("/v2/")
        if version[0] >= 0 and (version[1] < 0 or version[0] < version[1]):
            path = path[version[0] :]
            if path.rstrip("/") == "/v1/company/employees":
                return [self._v1, self._employees, self._employees_burst]
            return [self._v1]
        if version[1] >= 0:
            return [self._v2_bucket(endpoint_of(path[version[1] :]), now)]
        return []

    def acquire_call(self, request: Any, block: bool = True, timeout: Optional[float] = None) -> None:
        url = getattr(request, "url", None) or ""
        with self._lock:
            now = self._clock()
            limits = self.limits_for(url, now)
            if not limits:
                return
            at = max(limit.earliest(now) for limit in limits)
            for limit in limits:
                limit.take(at)
        wait = at - now
        if wait > 0:
            self._sleep(wait)

    def update_from_response(self, request: Any, response: Any) -> None:
        if not isinstance(response, requests.Response):
            return
        headers = response.headers
        rate, burst = headers.get("x-ratelimit-replenish-rate"), headers.get("x-ratelimit-burst-capacity")
        if rate is None and response.status_code != 429:
            return
        url = getattr(request, "url", None) or response.url or ""
        with self._lock:
            now = self._clock()
            limits = [l for l in self.limits_for(url, now) if isinstance(l, TokenBucket) and l is not self._employees_burst]
            for bucket in limits:
                try:
                    if rate is not None and float(rate) > 0:
                        bucket.rate = float(rate)
                    if burst is not None and float(burst) >= 1:
                        bucket.burst = max(1.0, float(burst) - BUCKET_RESERVE)
                except ValueError:
                    pass
                if response.status_code == 429:
                    bucket.drain(now)


class PartitionsInFlight:
    """At most ``limit`` partitions of one stream handed to workers and not yet read.

    Personio quirk: the streams with thousands of partitions (one per person, absence period,
    application, employee) each hit one rate-limited endpoint (10/s for most v2 endpoints). The CDK
    hands partitions to workers in the order its generators produced them; when one stream's
    partitions fill the queue, every worker ends up waiting in the pacer for that stream's endpoint
    (measured: 12 of 16 workers queued ~0.9 s each on stage transitions) while the employments
    endpoint, the one that decides when the sync ends, idles. Bounding each stream's partitions in
    flight keeps every endpoint's pacer fed with a few workers at a time. A partition counts until
    its read ends (completes or fails); a generator waits at most ``max_wait_s`` for a slot, so a
    partition the CDK never reads cannot stall the sync.
    """

    def __init__(self, limit: int, max_wait_s: float = 30.0):
        self.limit = max(1, int(limit))
        self.max_wait_s = max_wait_s
        self._slots = threading.Semaphore(self.limit)

    def _release_after_read(self, partition: Any) -> Any:
        read = partition.read
        released = threading.Event()

        def read_then_release() -> Any:
            try:
                yield from read()
            finally:
                if not released.is_set():
                    released.set()
                    self._slots.release()

        partition.read = read_then_release
        return partition

    def wrap(self, generate_partitions: Callable[[], Any]) -> Callable[[], Any]:
        def generate() -> Any:
            for partition in generate_partitions():
                if self._slots.acquire(timeout=self.max_wait_s):
                    yield self._release_after_read(partition)
                else:  # slots held by partitions that were never read: go on unbounded rather than stall
                    yield partition

        return generate
