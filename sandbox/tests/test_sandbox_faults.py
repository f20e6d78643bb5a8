"""Faults on demand: per path, rate, count and after; reproducible from the seed."""
from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from personio_sandbox.testing import Sandbox
from sandbox_client import Client


@pytest.fixture(scope="module")
def fsb():
    with Sandbox(employees=30, seed=4) as s:
        yield s


@pytest.fixture
def fc(fsb):
    c = Client(fsb)
    c.v1_token()
    c.v2_token()
    fsb.clear_faults()
    yield c
    fsb.clear_faults()


def test_status_fault_hits_only_its_path_and_stops_after_count(fsb, fc):
    fsb.set_faults([{"kind": "status", "status": 503, "path": "/v1/company/employees", "count": 2}])
    assert fc.get("/v1/company/time-offs").status_code == 200
    r = fc.get("/v1/company/employees")
    assert r.status_code == 503 and r.json()["success"] is False
    assert fc.get("/v1/company/employees").status_code == 503
    assert fc.get("/v1/company/employees").status_code == 200


def test_status_fault_on_v2_uses_problem_json(fsb, fc):
    fsb.set_faults([{"kind": "status", "status": 502, "path": "/v2/persons/{id}/employments", "count": 1}])
    r = fc.get("/v2/persons/10001/employments")
    assert r.status_code == 502 and r.json()["errors"][0]["type"].endswith("common.bad_gateway")


def test_after_skips_the_first_matching_requests(fsb, fc):
    fsb.set_faults([{"kind": "429", "path": "/v2/persons", "after": 2, "count": 1}])
    codes = [fc.get("/v2/persons").status_code for _ in range(4)]
    assert codes == [200, 200, 429, 200]


def test_429_storm_has_no_retry_after(fsb, fc):
    fsb.set_faults([{"kind": "429", "path": "/v1/company/employees"}])
    for _ in range(3):
        r = fc.get("/v1/company/employees")
        assert r.status_code == 429 and "Retry-After" not in r.headers


def test_latency_fault_delays_the_response(fsb, fc):
    fsb.set_faults([{"kind": "latency", "ms": 400, "count": 1}])
    t = time.perf_counter()
    assert fc.get("/v2/projects").status_code == 200
    assert time.perf_counter() - t >= 0.4


def test_reset_closes_connection_without_response(fsb, fc):
    fsb.set_faults([{"kind": "reset", "path": "/v1/company/employees", "count": 1}])
    with pytest.raises(requests.ConnectionError):
        fc.get("/v1/company/employees")
    assert fc.get("/v1/company/employees").status_code == 200


def test_truncate_cuts_the_body_midway(fsb, fc):
    fsb.set_faults([{"kind": "truncate", "path": "/v1/company/employees", "count": 1}])
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        fc.get("/v1/company/employees")


def test_malformed_json_with_status_200(fsb, fc):
    fsb.set_faults([{"kind": "malformed", "path": "/v2/persons", "count": 1}])
    r = fc.get("/v2/persons")
    assert r.status_code == 200
    with pytest.raises(ValueError):
        r.json()


def test_token_expiry_fault_makes_the_token_invalid_until_reauth(fsb, fc):
    fsb.set_faults([{"kind": "token_expiry", "path": "/v1/company/employees", "count": 1}])
    r = fc.get("/v1/company/employees")
    assert r.status_code == 401
    assert fc.get("/v1/company/time-offs").status_code == 401  # same token, still expired
    fc._v1 = None
    assert fc.get("/v1/company/time-offs").status_code == 200


def test_duplicates_repeat_the_previous_page_last_record(fsb, fc):
    p1 = fc.get("/v1/company/employees", {"limit": 10, "offset": 0}).json()["data"]
    fsb.set_faults([{"kind": "duplicates", "path": "/v1/company/employees"}])
    p2 = fc.get("/v1/company/employees", {"limit": 10, "offset": 10}).json()["data"]
    assert p2[0] == p1[-1] and len(p2) == 10
    t1 = fc.get("/v1/company/time-offs", {"limit": 5, "offset": 1}).json()["data"]
    fsb.set_faults([{"kind": "duplicates", "path": "/v1/company/time-offs"}])
    t2 = fc.get("/v1/company/time-offs", {"limit": 5, "offset": 2}).json()["data"]
    assert t2[0] == t1[-1]


def test_drift_changes_total_elements_between_pages(fsb, fc):
    fsb.set_faults([{"kind": "drift", "path": "/v1/company/employees"}])
    a = fc.get("/v1/company/employees", {"limit": 10, "offset": 0}).json()["metadata"]["total_elements"]
    b = fc.get("/v1/company/employees", {"limit": 10, "offset": 10}).json()["metadata"]["total_elements"]
    assert a != b


def test_repeat_cursor_points_next_at_the_current_page(fsb, fc):
    first = fc.get("/v2/persons", {"limit": 5}).json()
    cur = parse_qs(urlsplit(first["_meta"]["links"]["next"]["href"]).query)["cursor"][0]
    fsb.set_faults([{"kind": "repeat_cursor", "path": "/v2/persons", "count": 1}])
    second = fc.get(first["_meta"]["links"]["next"]["href"]).json()
    nxt = parse_qs(urlsplit(second["_meta"]["links"]["next"]["href"]).query)["cursor"][0]
    assert nxt == cur
    # once only: the next response has a fresh cursor again
    third = fc.get(second["_meta"]["links"]["next"]["href"]).json()
    assert parse_qs(urlsplit(third["_meta"]["links"]["next"]["href"]).query)["cursor"][0] != cur


def test_unexpected_shapes(fsb, fc):
    fsb.set_faults([{"kind": "unknown_fields", "path": "/v2/persons", "count": 1}])
    p = fc.get("/v2/persons", {"limit": 1}).json()["_data"][0]
    assert "sandbox_unknown_field" in p
    fsb.set_faults([{"kind": "null_objects", "path": "/v2/persons/{person_id}/employments", "count": 1}])
    e = fc.get("/v2/persons/10002/employments").json()["_data"][0]
    assert e["position"] is None and e["office"] is None
    fsb.set_faults([{"kind": "empty_string_objects", "path": "/v1/company/employees", "count": 1}])
    a = fc.get("/v1/company/employees", {"limit": 1}).json()["data"][0]["attributes"]
    assert a["department"]["value"] == "" and a["cost_centers"]["value"] == ""
    # the fault fired once; the data itself is untouched
    a = fc.get("/v1/company/employees", {"limit": 1}).json()["data"][0]["attributes"]
    assert a["department"]["value"]["type"] == "Department"
    assert fc.get("/v2/persons/10002/employments").json()["_data"][0]["position"]["title"]


def test_rate_faults_are_reproducible_for_a_seed():
    def run():
        with Sandbox(employees=5, seed=9, faults=["kind=status,status=500,rate=0.5,path=/v2/persons"]) as s:
            c = Client(s)
            return [c.get("/v2/persons").status_code for _ in range(30)]
    a, b = run(), run()
    assert a == b and 500 in a and 200 in a


def test_stats_count_requests_by_template_and_status_and_errors_by_endpoint_but_not_control_calls(fsb, fc):
    fsb.reset_stats()
    fc.get("/v2/persons/10001/employments")
    fc.get("/v2/persons/10002/employments")
    fc.get("/v2/org-units")
    fsb.dataset("/v2/persons")
    st = fsb.stats()
    assert st["requests"] == {"GET /v2/persons/{person_id}/employments": 2, "GET /v2/org-units": 1}
    assert st["statuses"] == {"200": 2, "400": 1} and st["requests_total"] == 3
    assert st["errors"] == {"400 GET /v2/org-units": 1}  # non-2xx answers, per endpoint
    assert st["records"]["employees"] == 30 and st["records"]["attendance_periods"] > 1000
