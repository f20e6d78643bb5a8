"""Rate limits as documented by default (429 without Retry-After), off, or custom numbers."""
from __future__ import annotations

import time

import pytest
import requests

from personio_sandbox.testing import Sandbox
from sandbox_client import Client


@pytest.fixture
def rsb():
    with Sandbox(employees=5, seed=6, rate_limits="documented") as s:
        yield s


def test_v1_employees_burst_is_15_per_second_then_429_without_retry_after(rsb):
    c = Client(rsb)
    c.v1_token()
    codes, r429 = [], None
    for _ in range(20):
        r = c.get("/v1/company/employees", {"limit": 1})
        codes.append(r.status_code)
        if r.status_code == 429:
            r429 = r
    assert codes[:15] == [200] * 15 and 429 in codes[15:]
    assert "Retry-After" not in r429.headers
    assert r429.json()["success"] is False
    # other v1 endpoints only share the 2000/min budget
    assert c.get("/v1/company/time-offs").status_code == 200
    time.sleep(1.1)
    assert c.get("/v1/company/employees", {"limit": 1}).status_code == 200


def test_v2_persons_bucket_headers_and_429(rsb):
    c = Client(rsb)
    c.v2_token()
    r = c.get("/v2/persons", {"limit": 1})
    assert r.headers["x-ratelimit-replenish-rate"] == "30"
    assert r.headers["x-ratelimit-burst-capacity"] == "30"
    assert r.headers["x-ratelimit-requested-tokens"] == "1"
    assert int(r.headers["x-ratelimit-remaining"]) == 29
    for _ in range(500):  # bounded: the bucket refills at 30/s, a loopback client is faster
        r = c.get("/v2/persons", {"limit": 1})
        if r.status_code == 429:
            break
    assert r.status_code == 429 and "Retry-After" not in r.headers
    assert r.headers["x-ratelimit-remaining"] == "0"
    assert r.headers["Content-Type"].startswith("application/problem+json")
    # buckets are per endpoint: absence periods (10/s) are unaffected
    r = c.get("/v2/absence-periods", {"limit": 1})
    assert r.status_code == 200 and r.headers["x-ratelimit-replenish-rate"] == "10"


def test_v1_auth_60_per_minute_then_cool_down(rsb):
    body = {"client_id": rsb.client_id, "client_secret": rsb.client_secret}
    codes = [requests.post(rsb.url + "/v1/auth", json=body).status_code for _ in range(62)]
    assert codes[:60] == [200] * 60 and codes[60:] == [429, 429]


def test_v2_auth_150_per_minute_then_throttled(rsb):
    body = {"grant_type": "client_credentials", "client_id": rsb.client_id, "client_secret": rsb.client_secret}
    codes = [requests.post(rsb.url + "/v2/auth/token", data=body).status_code for _ in range(153)]
    assert codes[:150] == [200] * 150 and 429 in codes[150:]


def test_custom_numbers_and_off_at_runtime(rsb):
    c = Client(rsb)
    c.v2_token()
    rsb.set_rate_limits({"v2": {"/v2/projects": 2}})
    codes = [c.get("/v2/projects").status_code for _ in range(4)]
    assert codes[:2] == [200, 200] and codes[2:] == [429, 429]
    rsb.set_rate_limits("off")
    assert all(c.get("/v2/projects").status_code == 200 for _ in range(50))
    assert "x-ratelimit-remaining" not in c.get("/v2/projects").headers


def test_custom_rate_limit_config_on_the_command_line():
    cfg = '{"v1_employees_burst_per_s": 3}'
    with Sandbox(employees=3, rate_limits=cfg) as s:
        c = Client(s)
        codes = [c.get("/v1/company/employees").status_code for _ in range(5)]
        assert codes[:3] == [200] * 3 and codes[3:] == [429, 429]
