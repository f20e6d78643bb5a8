"""Wire quirks and data behaviour beyond the official schemas: half days as 0/1 (and the spec-strict switch),
the attribute whitelist on embedded employees, ``updated_since`` + ``attributes[]`` as a selection filter,
compensations that change with the salary, and the list of issued tokens."""
from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
from openapi_core.testing import MockRequest, MockResponse

import openapi_specs as S
from personio_sandbox.testing import Sandbox
from sandbox_client import Client

AFTER_GENERATION = "2026-11-01T00:00:30"  # mutations start at 2026-11-01T00:01:00Z; generated data is older


def _half_days(records):
    return [(r["attributes"]["half_day_start"], r["attributes"]["half_day_end"]) for r in records]


def _spec_messages(r: requests.Response) -> list[str]:
    """openapi-core's complaints about a v1 response, against the official file (section-9 mends only)."""
    u = urlsplit(r.url)
    req = MockRequest("https://api.personio.de", "get", u.path, args=parse_qsl(u.query))
    resp = MockResponse(r.content, status_code=r.status_code, content_type="application/json")
    out = []
    for e in S.v1().iter_response_errors(req, resp):
        cause = e.__cause__ if e.__cause__ is not None else e
        for se in getattr(cause, "schema_errors", None) or [cause]:
            out.append("%s: %s" % ("/".join(str(p) for p in getattr(se, "absolute_path", [])), getattr(se, "message", se)))
    return out


# ---------------------------------------------------------------- half days: 0/1 by default, booleans on demand
def test_time_offs_half_days_are_0_or_1_in_list_by_id_and_dataset(sb, client):
    truth = sb.dataset("/v1/company/time-offs")
    halves = _half_days(truth)
    assert all(type(v) is int and v in (0, 1) for pair in halves for v in pair)
    assert any(1 in pair for pair in halves) and any(pair == (0, 0) for pair in halves)
    assert client.read_v1_pages("/v1/company/time-offs", limit=37) == truth  # dataset is exactly what is served
    one = next(r for r in truth if r["attributes"]["half_day_start"] == 1)
    by_id = client.get("/v1/company/time-offs/%d" % one["attributes"]["id"]).json()["data"]
    assert by_id == one and type(by_id["attributes"]["half_day_start"]) is int


def test_default_half_days_break_the_official_schema_only_there(client):
    r = client.get("/v1/company/time-offs", {"limit": 200})
    msgs = _spec_messages(r)
    assert msgs and all("half_day_" in m and "is not of type 'boolean'" in m for m in msgs), msgs


def test_spec_strict_booleans_serves_booleans_that_validate_against_the_official_schema():
    with Sandbox(employees=25, seed=3, extra_args=["--spec-strict-booleans"]) as s:
        c = Client(s)
        truth = s.dataset("/v1/company/time-offs")
        halves = _half_days(truth)
        assert all(type(v) is bool for pair in halves for v in pair) and any(True in p for p in halves)
        r = c.get("/v1/company/time-offs", {"limit": 200})
        assert r.json()["data"] == truth and _spec_messages(r) == []
        one = next(x for x in truth if x["attributes"]["half_day_start"] or x["attributes"]["half_day_end"])
        r = c.get("/v1/company/time-offs/%d" % one["attributes"]["id"])
        assert r.json()["data"] == one and _spec_messages(r) == []


# ---------------------------------------------------------------- whitelist on embedded employees
def test_attribute_whitelist_also_trims_the_employee_embedded_in_absences_and_supervisor(sb):
    sb.add_credential({"client_id": "first-names", "client_secret": "x", "attributes": ["first_name", "supervisor"]})
    c = Client(sb, "first-names", "x")
    for path in ("/v1/company/time-offs", "/v1/company/absence-periods"):
        recs = c.read_v1_pages(path, limit=200)
        assert recs and all(set(r["attributes"]["employee"]["attributes"]) == {"id", "first_name"} for r in recs)
        assert recs == sb.dataset(path, client_id="first-names")
        full = Client(sb).read_v1_pages(path, limit=200)  # the default credential still sees everything
        assert set(full[0]["attributes"]["employee"]["attributes"]) == {"id", "first_name", "last_name", "email"}
    one = c.get("/v1/company/time-offs", {"limit": 1}).json()["data"][0]
    by_id = c.get("/v1/company/time-offs/%d" % one["attributes"]["id"]).json()["data"]
    assert set(by_id["attributes"]["employee"]["attributes"]) == {"id", "first_name"}
    emps = c.read_v1_offset("/v1/company/employees")
    sups = [e["attributes"]["supervisor"]["value"] for e in emps if "supervisor" in e["attributes"]]
    assert sups and all(set(s["attributes"]) == {"id", "first_name"} for s in sups)


# ---------------------------------------------------------------- updated_since + attributes[] selects
@pytest.fixture(scope="module")
def mutated():
    with Sandbox(employees=20, seed=21) as s:
        c = Client(s)
        before_comp = {x["id"]: x for x in c.read_v2("/v2/compensations", {"limit": 100})}
        past_comp = c.read_v2("/v2/compensations", {"start_date": "2026-03-01", "end_date": "2026-03-31",
                                                    "limit": 100})
        out = s.mutate(create=1, update=3, resources=["employees"])
        yield s, c, out, before_comp, past_comp


def test_updated_since_with_attributes_selects_only_employees_with_those_attributes_changed(mutated):
    s, c, out, _, _ = mutated
    created, updated = out["created"]["employees"], out["updated"]["employees"]

    def ids(**params):
        return sorted(e["attributes"]["id"]["value"] for e in c.read_v1_offset("/v1/company/employees", **params))
    assert ids(updated_since=AFTER_GENERATION) == sorted(created + updated)
    # mutate changes position and fix salary; a creation counts as a change of every attribute
    assert ids(updated_since=AFTER_GENERATION, **{"attributes[]": ["position"]}) == sorted(created + updated)
    assert ids(updated_since=AFTER_GENERATION, **{"attributes[]": ["first_name"]}) == sorted(created)
    assert ids(updated_since=AFTER_GENERATION, **{"attributes[]": ["first_name", "fix_salary"]}) == sorted(created + updated)
    page = c.get("/v1/company/employees", {"updated_since": AFTER_GENERATION, "attributes[]": ["position"]}).json()
    assert all(set(e["attributes"]) == {"id", "position"} for e in page["data"])  # still a projection too
    path = "/v1/company/employees?updated_since=%s&attributes[]=first_name" % AFTER_GENERATION
    assert [e["attributes"]["id"]["value"] for e in s.dataset(path)] == sorted(created)


def test_updated_since_with_attributes_on_generated_data_is_a_strict_subset(sb, client):
    allp = client.read_v1_offset("/v1/company/employees", updated_since="2020-01-01")
    pos = client.read_v1_offset("/v1/company/employees", updated_since="2026-01-01", **{"attributes[]": ["position"]})
    any_ = client.read_v1_offset("/v1/company/employees", updated_since="2026-01-01")
    assert len(allp) == 40 and 0 < len(pos) < len(any_)


# ---------------------------------------------------------------- compensations follow salary changes
def test_salary_change_moves_the_current_compensation_and_leaves_history_alone(mutated):
    s, c, out, before, past_before = mutated
    updated = {str(i) for i in out["updated"]["employees"]}
    after = {x["id"]: x for x in c.read_v2("/v2/compensations", {"limit": 100})}
    assert set(before) <= set(after)
    for cid, old in before.items():
        new = after[cid]
        if old["person"]["id"] in updated:
            # the current month is the wall clock's: in March and December a one-time bonus of half the
            # base salary is listed too, and it follows the raise
            raise_ = 100 if old["interval"] == "MONTHLY" else 50
            assert new["value"]["amount"] == old["value"]["amount"] + raise_
            assert new["updated_at"] > old["updated_at"] and new["created_at"] == old["created_at"]
        else:
            assert new == old
    past_after = c.read_v2("/v2/compensations", {"start_date": "2026-03-01", "end_date": "2026-03-31", "limit": 100})
    assert past_after == past_before  # earlier months keep the salary they had
    v1 = {str(e["attributes"]["id"]["value"]): e["attributes"]["fix_salary"]["value"]
          for e in c.read_v1_offset("/v1/company/employees")}
    base = [x for x in after.values() if x["interval"] == "MONTHLY"]
    assert base and all(x["value"]["amount"] == v1[x["person"]["id"]] for x in base)


# ---------------------------------------------------------------- every issued token, for leak checks
def test_issued_tokens_lists_every_token_ever_issued_and_is_not_counted(sb):
    c = Client(sb)
    v1, v2 = c.v1_token(), c.v2_token()
    other = requests.post(sb.url + "/v1/auth", data={"client_id": sb.client_id, "client_secret": sb.client_secret})
    v1b = other.json()["data"]["token"]
    requests.post(sb.url + "/v2/auth/revoke", data={"token": v2})
    before = sb.stats()["requests_total"]
    toks = sb.issued_tokens()
    assert {v1, v2, v1b} <= set(toks) and len(toks) == len(set(toks))
    assert all(t.startswith("papi-") for t in toks)
    assert sb.stats()["requests_total"] == before
    assert "GET /_sandbox/tokens" not in sb.stats()["requests"]


# ---------------------------------------------------------------- nothing changes behind a timestamp
def _snapshot(company) -> dict:
    from personio_sandbox import api

    def by(path, key, ts):
        return {key(r): (ts(r), r) for r in api.dataset(company, path)}
    v1id = lambda r: r["attributes"]["id"]["value"] if isinstance(r["attributes"]["id"], dict) else r["attributes"]["id"]
    snap = {
        "v1 employees": by("/v1/company/employees", v1id, lambda r: r["attributes"]["last_modified_at"]["value"]),
        "v1 time-offs": by("/v1/company/time-offs", v1id, lambda r: r["attributes"]["updated_at"]),
        "v1 absence-periods": by("/v1/company/absence-periods", v1id, lambda r: r["attributes"]["updated_at"]),
        "attendance": by("/v2/attendance-periods?person.id=10001,10002,10003,10004", lambda r: r["id"],
                         lambda r: r["updated_at"]),
        "compensations": by("/v2/compensations", lambda r: r["id"], lambda r: r["updated_at"]),
    }
    for path in ("/v2/persons", "/v2/absence-periods", "/v2/projects", "/v2/recruiting/candidates",
                 "/v2/recruiting/applications", "/v2/recruiting/jobs"):
        snap[path] = by(path, lambda r: r["id"], lambda r: r["updated_at"])
    for rep in api.dataset(company, "/v1/company/custom-reports/reports"):
        rid = rep["attributes"]["id"]
        rows = api.dataset(company, "/v1/company/custom-reports/reports/%s" % rid)
        meta = api.render(company, "/v1/company/custom-reports/reports/%s" % rid)[1]["data"][0]["attributes"]
        snap["report " + rid] = {rid: (meta["data_refreshed_at"], rows)}
    return snap


def test_mutations_change_no_record_without_moving_its_timestamp():
    from personio_sandbox.data import generate_company
    from personio_sandbox.mutate import mutate
    c = generate_company(5, 12)
    # the synthetic clock: with the wall clock, steps within one second share their stamp (as Personio's
    # whole-second timestamps do), which this comparison could not tell from an unstamped change
    c.clock_mode = "base"
    for step in ({"create": 2, "update": 3, "delete": 2}, {"delete": 9, "resources": ["employees"]},
                 {"create": 1, "delete": 3, "resources": ["projects", "applications"]}):
        before = _snapshot(c)
        mutate(c, step.get("create", 0), step.get("update", 0), step.get("delete", 0), step.get("resources"))
        after = _snapshot(c)
        silent = [(name, k) for name, recs in before.items() for k, (ts, rec) in recs.items()
                  if k in after[name] and after[name][k][1] != rec and after[name][k][0] == ts]
        assert silent == [], step
        changed = sum(after[n][k][1] != r for n, recs in before.items() for k, (_t, r) in recs.items() if k in after[n])
        assert changed > 0  # the step did change existing records
