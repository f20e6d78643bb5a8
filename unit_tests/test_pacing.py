"""PersonioRateLimits: requests wait for every Personio limit that applies to them (fake clock)."""

from types import SimpleNamespace

import pytest
import requests

from source_personio.pacing import MovingWindow, PersonioRateLimits, TokenBucket, endpoint_of

BASE = "https://api.personio.de"


class FakeClock:
    def __init__(self):
        self.now = 1000.0
        self.sleeps = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def budget(**limits):
    clock = FakeClock()
    return PersonioRateLimits(limits or None, clock=clock, sleep=clock.sleep), clock


def send(pacer, clock, path, n):
    """n requests back to back; returns the times they were let through."""
    times = []
    for _ in range(n):
        pacer.acquire_call(SimpleNamespace(url=BASE + path))
        times.append(clock.now)
    return times


def response(url, status=200, headers=None):
    r = requests.Response()
    r.status_code, r.url = status, url
    r.headers.update(headers or {})
    return r


def test_endpoint_of_groups_ids():
    assert endpoint_of("/v2/persons/10001/employments") == "/v2/persons/{}/employments"
    assert endpoint_of("/v2/absence-periods/3f2a-9b1c/breakdowns") == "/v2/absence-periods/{}/breakdowns"
    assert endpoint_of("/v2/attendance-periods") == "/v2/attendance-periods"


def test_v1_overall_window_lets_2000_through_then_waits_for_the_window():
    pacer, clock = budget()
    times = send(pacer, clock, "/v1/company/employees/10001/absences/balance", 2001)
    assert times[1999] == 1000.0  # the first 2,000 go at once
    assert times[2000] == pytest.approx(1000.0 + 61.0)  # the 2,001st after the (padded) minute


def test_employees_count_against_their_own_limits_and_the_v1_limit():
    pacer, clock = budget()
    times = send(pacer, clock, "/v1/company/employees", 30)
    # 14 at once (15/s burst, one token kept in reserve), then 15 per second
    assert times[13] == 1000.0 and times[14] > 1000.0
    assert times[29] - times[14] == pytest.approx(15 / 15.0)
    # those 30 also used v1's overall budget: 1,970 more fit in the same minute, not 2,000
    others = send(pacer, clock, "/v1/company/time-offs", 1971)
    assert others[1969] < 1000.0 + 61 and others[1970] >= 1000.0 + 61


def test_v2_buckets_are_per_endpoint_at_documented_rates():
    pacer, clock = budget()
    persons = send(pacer, clock, "/v2/persons", 29 + 30)
    assert persons[28] == 1000.0 and persons[-1] - persons[28] == pytest.approx(30 / 30.0)
    start = clock.now
    # another endpoint is not slowed by persons: its own bucket is full
    projects = send(pacer, clock, "/v2/projects", 9)
    assert projects[-1] == start


def test_v2_headers_override_documented_rate_and_429_empties_the_bucket():
    pacer, clock = budget()
    url = BASE + "/v2/attendance-periods"
    pacer.update_from_response(
        SimpleNamespace(url=url),
        response(url, headers={"x-ratelimit-replenish-rate": "50", "x-ratelimit-burst-capacity": "50"}),
    )
    times = send(pacer, clock, "/v2/attendance-periods", 50)
    assert times[-1] - times[0] < 1.0  # at 50/s, not the default 10/s
    pacer.update_from_response(SimpleNamespace(url=url), response(url, status=429))
    before = clock.now
    send(pacer, clock, "/v2/attendance-periods", 1)
    assert clock.now - before == pytest.approx(1 / 50)


def test_v1_429_without_headers_does_not_stall():
    pacer, clock = budget()
    url = BASE + "/v1/company/time-offs"
    pacer.update_from_response(SimpleNamespace(url=url), response(url, status=429))
    assert send(pacer, clock, "/v1/company/time-offs", 1) == [1000.0]


def test_unknown_hosts_paths_are_not_paced():
    pacer, clock = budget()
    pacer.acquire_call(SimpleNamespace(url="https://api.personio.de/health"))
    assert clock.sleeps == []


def test_bucket_and_window_primitives():
    bucket = TokenBucket(rate=2, burst=2, now=0.0)
    for _ in range(2):
        bucket.take(bucket.earliest(0.0))
    assert bucket.earliest(0.0) == pytest.approx(0.5)
    window = MovingWindow(limit=2, span=10)
    window.take(0.0)
    window.take(1.0)
    assert window.earliest(2.0) == 10.0


def test_pending_partitions_are_bounded_to_a_few_per_worker():
    from source_personio.source import SourcePersonio

    source = SourcePersonio(config={"client_id": "a", "client_secret": "b", "num_workers": 8})
    pool = source._concurrent_source._threadpool
    assert pool._max_concurrent_tasks == 32  # the CDK default is 10,000 queued partitions
