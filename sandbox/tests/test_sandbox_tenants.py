"""Tenant profiles (issue 12): the ways real accounts differ from the tidy full tenant, as
../shared/personio-api/README.md §10.2 (missing modules and rights), §10.3 (trimmed v2 records) and §10.5
(shapes) describe them. Expected statuses, messages and shapes are the reference's words; records are
compared with the same company served by the full tenant (same seed), never with the sandbox's renderers."""
from __future__ import annotations

import datetime as dt
import re

import pytest

from personio_sandbox.testing import Sandbox
from sandbox_client import Client

SEED, N = 5, 30


@pytest.fixture(scope="module")
def full():
    with Sandbox(employees=N, seed=SEED) as s:
        yield s, Client(s)


@pytest.fixture(scope="module")
def small():
    with Sandbox(employees=N, seed=SEED, tenant="small_business") as s:
        yield s, Client(s)


@pytest.fixture(scope="module")
def narrow():
    with Sandbox(employees=N, seed=SEED, tenant="narrow") as s:
        yield s, Client(s)


@pytest.fixture(scope="module")
def shapes():
    with Sandbox(employees=N, seed=SEED, tenant="shapes") as s:
        yield s, Client(s)


def _err(r):
    return r.json()["errors"][0]


# ---------------------------------------------------------------- full: today's tenant
def test_full_tenant_serves_everything_and_no_shapes(full):
    s, c = full
    assert s.tenant_info()["tenant"] == "full" and s.tenant_info()["unavailable"] == []
    for path in ("/v2/recruiting/jobs", "/v2/legal-entities", "/v2/persons"):
        assert c.get(path).status_code == 200, path
    assert c.get("/v1/company/custom-reports/reports").status_code == 200
    assert all("id_v2" not in t["attributes"] for t in c.read_v1_pages("/v1/company/time-offs", limit=50))
    apps = c.read_v2("/v2/recruiting/applications")
    assert apps and all(isinstance(a["updated_at"], str) for a in apps)


# ---------------------------------------------------------------- small business (§10.2)
def test_small_business_without_recruiting_answers_404_endpoint_not_found(small):
    _s, c = small
    for path in ("/v2/recruiting/jobs", "/v2/recruiting/candidates", "/v2/recruiting/applications",
                 "/v2/recruiting/categories"):
        r = c.get(path)
        assert r.status_code == 404, path
        e = _err(r)
        assert e["detail"] == "The endpoint with %s was not found." % path
        assert e["type"].endswith("#apinot_found")


def test_small_business_without_legal_entities_answers_412(small):
    _s, c = small
    assert c.get("/v2/legal-entities").status_code == 412


def test_small_business_without_persons_right_answers_401_unauthorized_request(small):
    s, c = small
    pid = str(s.truth("employees")[0]["attributes"]["id"]["value"])
    for path in ("/v2/persons", "/v2/persons/" + pid, "/v2/persons/%s/employments" % pid):
        r = c.get(path)
        assert r.status_code == 401, path
        assert _err(r)["detail"] == "Unauthorized Request"
    # a missing right is not wrong credentials: the token works elsewhere
    assert c.get("/v2/absence-periods").status_code == 200


def test_small_business_without_reports_right_answers_v1_reports_403(small):
    _s, c = small
    r = c.get("/v1/company/custom-reports/reports")
    assert r.status_code == 403
    assert r.json()["success"] is False and r.json()["error"]["code"] == 403


def test_small_business_still_serves_the_rest(small, full):
    s, c = small
    fs, _fc = full
    assert len(c.read_v1_offset("/v1/company/employees")) == len(fs.truth("employees")) == N
    assert c.get("/v2/projects").status_code == 200
    assert c.get("/v2/attendance-periods", {"limit": 5}).status_code == 200


def test_small_business_truth_is_what_the_credential_can_see(small):
    s, _c = small
    for resource, status in (("persons", 401), ("employments", 401), ("candidates", 404), ("jobs", 404),
                             ("legal_entities", 412), ("custom_reports", 403)):
        assert s.truth(resource) == [], resource
        assert s.truth_unavailable(resource)["status"] == status, resource
    assert s.truth_unavailable("employees") is None and len(s.truth("employees")) == N
    listed = {(u["path"], u["status"]) for u in s.tenant_info()["unavailable"]}
    assert ("/v2/recruiting/jobs", 404) in listed and ("/v2/persons", 401) in listed
    assert ("/v2/legal-entities", 412) in listed and not any(p.startswith("/v2/absence") for p, _ in listed)


# ---------------------------------------------------------------- narrow credential (§3.1 whitelist, §10.3)
def test_narrow_v1_employees_carry_only_the_whitelisted_attributes(narrow, full):
    _s, c = narrow
    allowed = {a["key"] for a in c.get("/v1/company/employees/attributes").json()["data"]}
    _fs, fc = full
    everything = {a["key"] for a in fc.get("/v1/company/employees/attributes").json()["data"]}
    assert allowed < everything and "fix_salary" not in allowed
    emps = c.read_v1_offset("/v1/company/employees")
    assert len(emps) == N
    for e in emps:
        assert set(e["attributes"]) <= allowed | {"id"}
        assert "fix_salary" not in e["attributes"]


def test_narrow_v2_persons_and_employments_are_trimmed(narrow, full):
    s, c = narrow
    persons = c.read_v2("/v2/persons", {"limit": 7})
    assert len(persons) == N
    assert all(set(p) == {"id", "employments", "_meta"} for p in persons)
    emps = c.read_v2("/v2/persons/%s/employments" % persons[0]["id"])
    assert emps and all(set(m) == {"id", "person", "status", "_meta"} for m in emps)
    one = c.get("/v2/persons/" + persons[0]["id"]).json()
    assert set(one) == {"id", "employments", "_meta"}
    # the same people as the full tenant, and truth shows what this credential sees
    _fs, fc = full
    assert [p["id"] for p in persons] == [p["id"] for p in fc.read_v2("/v2/persons", {"limit": 50})]
    assert [p["id"] for p in s.truth("persons")] == [p["id"] for p in persons]
    assert all(set(p) == {"id", "employments", "_meta"} for p in s.truth("persons"))


# ---------------------------------------------------------------- shapes (§10.5)
def _instant(s: str) -> dt.datetime:
    return dt.datetime.fromisoformat(s.replace("Z", "+00:00"))


def test_shapes_wrap_recruiting_timestamps_of_applications_jobs_and_transitions(shapes, full):
    _s, c = shapes
    _fs, fc = full
    plain = {a["id"]: a for a in fc.read_v2("/v2/recruiting/applications")}
    apps = c.read_v2("/v2/recruiting/applications")
    assert len(apps) == len(plain)
    for a in apps:
        for k in ("created_at", "updated_at"):
            assert set(a[k]) == {"date-time", "timezone"}
            assert _instant(a[k]["date-time"]) == _instant(plain[a["id"]][k])  # the same instant
    jobs = c.read_v2("/v2/recruiting/jobs")
    assert jobs and all(set(j["updated_at"]) == {"date-time", "timezone"} for j in jobs)
    tr = c.read_v2("/v2/recruiting/applications/%s/stage-transitions" % apps[0]["id"])
    assert tr and all(set(t["entered_at"]) == {"date-time", "timezone"} for t in tr)
    cands = c.read_v2("/v2/recruiting/candidates")
    assert cands and all(isinstance(x["updated_at"], str) for x in cands)  # candidates stay plain


def test_shapes_day_absences_end_at_midnight_after_the_last_day(shapes):
    _s, c = shapes
    time_offs = c.read_v1_pages("/v1/company/time-offs", limit=50)
    periods = {p["id"]: p for p in c.read_v2("/v2/absence-periods")}
    assert time_offs
    for t in time_offs:
        a = t["attributes"]
        p = periods[a["id_v2"]]  # id_v2: the same absence in v2
        last_day = dt.date.fromisoformat(a["end_date"][:10])
        assert p["ends_at"]["date_time"] == (last_day + dt.timedelta(days=1)).isoformat() + "T00:00:00"
    hourly = [p for p in periods.values() if p["ends_at"]["date_time"][:10] == p["starts_from"]["date_time"][:10]
              and p["ends_at"]["date_time"][11:] != "00:00:00"]
    assert hourly  # hour absences end at a real time on the same day


def test_shapes_v1_salaries_carry_a_currency_gbp_and_eur(shapes):
    _s, c = shapes
    emps = c.read_v1_offset("/v1/company/employees")
    seen = set()
    for e in emps:
        for k in ("fix_salary", "hourly_salary"):
            assert set(e["attributes"][k]) == {"label", "value", "currency", "type", "universal_id"}
            seen.add(e["attributes"][k]["currency"])
    assert seen == {"GBP", "EUR"}


def test_shapes_id_v2_on_time_offs_time_off_by_id_and_time_off_types(shapes):
    _s, c = shapes
    v2_periods = {p["id"] for p in c.read_v2("/v2/absence-periods")}
    offs = c.read_v1_pages("/v1/company/time-offs", limit=50)
    assert offs and {t["attributes"]["id_v2"] for t in offs} <= v2_periods
    one = c.get("/v1/company/time-offs/%s" % offs[0]["attributes"]["id"]).json()["data"]
    assert one["attributes"]["id_v2"] == offs[0]["attributes"]["id_v2"]
    v2_types = {t["id"] for t in c.read_v2("/v2/absence-types")}
    types = c.get("/v1/company/time-off-types").json()["data"]
    assert types and {t["attributes"]["id_v2"] for t in types} == v2_types


def test_shapes_projects_have_the_newer_fields_and_reject_includes(shapes):
    _s, c = shapes
    projects = c.read_v2("/v2/projects")
    for p in projects:
        assert {"project_code", "client_name", "billable", "cost_center", "status", "start"} <= set(p)
        assert isinstance(p["billable"], bool) and set(p["cost_center"]) == {"id"} and set(p["start"]) == {"date"}
    assert any("end" in p for p in projects) or all(p["status"] == "ACTIVE" for p in projects)
    assert c.get("/v2/projects", {"includes": "tracked_minutes"}).status_code == 400


def test_shapes_attendance_has_pending_confirmed_and_rejected(shapes):
    s, c = shapes
    pid = str(s.truth("employees")[0]["attributes"]["id"]["value"])
    recs = c.read_v2("/v2/attendance-periods", {"person.id": pid})
    assert {r["approval"]["status"] for r in recs} == {"PENDING", "CONFIRMED", "REJECTED"}
    pending = c.read_v2("/v2/attendance-periods", {"person.id": pid, "status": "PENDING"})
    assert pending and len(pending) == sum(r["approval"]["status"] == "PENDING" for r in recs)


def test_shapes_person_custom_attributes_have_no_label_and_typed_values(shapes):
    _s, c = shapes
    persons = c.read_v2("/v2/persons", {"limit": 50})
    cas = [ca for p in persons for ca in p["custom_attributes"]]
    assert cas and all("label" not in ca for ca in cas)
    assert any(isinstance(ca["value"], (int, float)) and not isinstance(ca["value"], bool) for ca in cas)


def test_shapes_employment_termination_uses_the_live_field_names(shapes):
    _s, c = shapes
    terminated = []
    for p in c.read_v2("/v2/persons", {"limit": 50, "status": "INACTIVE"}):
        terminated += [m for m in c.read_v2("/v2/persons/%s/employments" % p["id"]) if "termination" in m]
    assert terminated
    for m in terminated:
        t = m["termination"]
        assert {"last_working_date", "termination_type", "termination_reason"} <= set(t)
        assert not {"last_working_day", "type", "reason"} & set(t)


def test_shapes_reports_same_names_non_latin_names_and_archived_ones(shapes):
    _s, c = shapes
    reports = [r["attributes"] for r in c.get("/v1/company/custom-reports/reports").json()["data"]]
    names = [r["name"] for r in reports]
    assert len(names) > len(set(names))                           # two reports share a name
    assert any(not re.search("[A-Za-z]", n) for n in names)       # a name without Latin letters
    answers = {r["id"]: c.get("/v1/company/custom-reports/reports/%s" % r["id"]) for r in reports}
    archived = [rid for rid, r in answers.items() if r.status_code == 400]
    assert len(archived) == 1 and all(r.status_code in (200, 400) for r in answers.values())
    body = answers[archived[0]].json()
    assert isinstance(body, list) and body[0]["status"] == 400  # the custom-reports error envelope (§3.12)


def test_attendance_filters_with_z_are_rejected_as_invalid_request_content(full):
    _s, c = full
    r = c.get("/v2/attendance-periods", {"updated_at.gte": "2026-01-01T12:00:00Z"})
    assert r.status_code == 400 and _err(r)["detail"] == "Invalid request content"
    assert c.get("/v2/attendance-periods", {"updated_at.gte": "2026-01-01T12:00:00", "limit": 1}).status_code == 200


def test_profiles_combine():
    with Sandbox(employees=12, seed=2, tenant="small_business,shapes") as s:
        c = Client(s)
        assert c.get("/v2/recruiting/jobs").status_code == 404
        offs = c.read_v1_pages("/v1/company/time-offs", limit=50)
        assert offs and all("id_v2" in t["attributes"] for t in offs)
        assert s.tenant_info()["profiles"] == ["small_business", "shapes"]


def test_unknown_profile_is_refused_at_start():
    with pytest.raises(RuntimeError, match="bad --tenant"):
        Sandbox(employees=5, tenant="enterprise").start()
