"""Each quirk listed in the Personio reference (../shared/personio-api/README.md) is reproduced."""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from urllib.parse import urlsplit

from personio_sandbox.testing import Sandbox
from sandbox_client import Client


def _eid(r):
    return r["attributes"]["id"]["value"]


# ---- v1 employees: record offset, 0-based current_page, default 50, max 100
def test_employees_offset_is_a_record_offset_and_first_page_is_zero(client):
    a = client.get("/v1/company/employees", {"limit": 5, "offset": 0}).json()
    b = client.get("/v1/company/employees", {"limit": 5, "offset": 3}).json()
    assert [_eid(r) for r in a["data"]][3:] == [_eid(r) for r in b["data"]][:2]
    assert a["metadata"]["current_page"] == 0
    assert a["metadata"] == {"total_elements": 40, "current_page": 0, "total_pages": 8}


def test_employees_default_limit_is_50_and_over_100_is_rejected():
    with Sandbox(employees=120, seed=2) as s:
        c = Client(s)
        body = c.get("/v1/company/employees").json()
        assert body["limit"] == 50 and len(body["data"]) == 50
        assert len(c.get("/v1/company/employees", {"limit": 100}).json()["data"]) == 100
        r = c.get("/v1/company/employees", {"limit": 101})
        assert r.status_code == 400 and r.json()["success"] is False


def test_employee_attribute_objects_and_dynamic_custom_attributes(client):
    e = client.get("/v1/company/employees", {"limit": 1}).json()["data"][0]
    assert e["type"] == "Employee"
    attrs = e["attributes"]
    for key, a in attrs.items():
        assert set(a) >= {"label", "value", "type", "universal_id"}, key
        assert a["type"] in {"standard", "date", "integer", "decimal", "list", "link", "tags", "multiline"}
    dyn = {k: a for k, a in attrs.items() if k.startswith("dynamic_")}
    assert {a["type"] for a in dyn.values()} >= {"date", "integer", "decimal", "list", "tags", "multiline", "link"}
    assert any(a["universal_id"] for a in dyn.values()) and any(a["universal_id"] is None for a in dyn.values())
    assert attrs["department"]["value"]["type"] == "Department"
    assert attrs["cost_centers"]["value"][0]["type"] == "CostCenter"
    assert attrs["fix_salary"]["currency"] == "EUR"
    assert "vacation_day_balance" not in attrs  # removed 2024-05


def test_employees_attributes_projection(client):
    body = client.get("/v1/company/employees", {"limit": 2, "attributes[]": ["first_name", "email"]}).json()
    assert all(set(e["attributes"]) == {"id", "first_name", "email"} for e in body["data"])


def test_employees_email_filter_still_returns_a_list(client, sb):
    email = sb.dataset("/v1/company/employees")[7]["attributes"]["email"]["value"]
    body = client.get("/v1/company/employees", {"email": email}).json()
    assert isinstance(body["data"], list) and len(body["data"]) == 1


def test_updated_since_boundary_is_inclusive_so_clients_see_the_boundary_record_again(client, sb):
    emps = sb.dataset("/v1/company/employees")
    newest = max(emps, key=lambda e: e["attributes"]["last_modified_at"]["value"])
    ts = dt.datetime.fromisoformat(newest["attributes"]["last_modified_at"]["value"])
    since = ts.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    body = client.get("/v1/company/employees", {"updated_since": since}).json()
    assert _eid(newest) in [_eid(e) for e in body["data"]]
    assert body["limit"] == 200  # paginated with defaults limit=200 (changelog 2023-11-16)


# ---- time-offs: page number, 1-based, 0 == 1, day-granular updated filters
def test_time_offs_offset_is_a_page_number_and_zero_behaves_as_one(client):
    p0 = client.get("/v1/company/time-offs", {"limit": 4, "offset": 0}).json()
    p1 = client.get("/v1/company/time-offs", {"limit": 4, "offset": 1}).json()
    p2 = client.get("/v1/company/time-offs", {"limit": 4, "offset": 2}).json()
    assert p0["data"] == p1["data"]
    assert p1["metadata"]["current_page"] == 1
    ids1 = [r["attributes"]["id"] for r in p1["data"]]
    ids2 = [r["attributes"]["id"] for r in p2["data"]]
    assert len(ids2) == 4 and not set(ids1) & set(ids2)  # offset=2 is the next page, not record 2


def test_time_offs_updated_filters_are_day_granular(client, sb):
    recs = sb.dataset("/v1/company/time-offs")
    r = recs[len(recs) // 2]["attributes"]
    day = (dt.datetime.strptime(r["updated_at"], "%Y-%m-%dT%H:%M:%S%z").astimezone(dt.timezone.utc)).strftime("%Y-%m-%d")
    got = client.read_v1_pages("/v1/company/time-offs", limit=200, updated_from=day, updated_to=day)
    assert r["id"] in [x["attributes"]["id"] for x in got]  # updated_to includes the whole day
    bad = client.get("/v1/company/time-offs", {"updated_from": day + "T10:00:00"})
    assert bad.status_code == 400 and bad.json()["success"] is False


def test_time_off_record_shape_and_timestamp_offsets_without_colon(client):
    r = client.get("/v1/company/time-offs", {"limit": 1}).json()["data"][0]
    a = r["attributes"]
    assert r["type"] == "TimeOffPeriod"
    # half days come as 0/1 integers on the wire (issue 2), not the schema's booleans
    assert type(a["half_day_start"]) is int and type(a["half_day_end"]) is int
    assert a["start_date"][-5:] in ("+0100",) and a["created_at"][-5] == "+"
    assert a["employee"]["attributes"]["id"]["value"] > 0 and a["time_off_type"]["type"] == "TimeOffType"


def test_half_day_time_offs_count_half_days(sb):
    halves = [r["attributes"] for r in sb.dataset("/v1/company/time-offs")
              if r["attributes"]["half_day_start"] or r["attributes"]["half_day_end"]]
    assert halves and all(float(a["days_count"]) % 1 == 0.5 for a in halves if a["half_day_start"] != a["half_day_end"])


def test_absence_periods_unknown_absence_type_is_404_with_message_key(client):
    r = client.get("/v1/company/absence-periods", {"absence_types[]": "00000000-0000-0000-0000-000000000000"})
    assert r.status_code == 404
    assert r.json() == {"success": False, "error": {"code": 404, "message": "models.absence-types.not-found"}}


def test_v1_hourly_absence_periods_have_minutes_and_uuid_ids(sb):
    recs = sb.dataset("/v1/company/absence-periods")
    a = recs[0]["attributes"]
    assert recs[0]["type"] == "AbsencePeriod" and a["measurement_unit"] == "hour"
    assert len(a["id"]) == 36 and a["effective_duration"] % 60 == 0 and a["breakdowns"]


def test_unknown_employee_is_404_with_localized_message(client):
    r = client.get("/v1/company/employees/999999")
    assert r.status_code == 404 and r.json()["error"]["message"] == "Es ist ein Problem aufgetreten "


def test_v1_attendances_and_projects_are_switched_off(client):
    for p in ("/v1/company/attendances", "/v1/company/attendances/projects"):
        r = client.get(p, {"start_date": "2026-01-01", "end_date": "2026-01-31"})
        assert r.status_code == 410
        body = r.json()
        assert body["success"] is False and "2026-08-30" in body["error"]["message"]


def test_custom_report_errors_use_the_array_envelope(client):
    r = client.get("/v1/company/custom-reports/reports/does-not-exist")
    assert r.status_code == 404
    body = r.json()
    assert isinstance(body, list) and body[0]["status"] == 404
    assert {"title", "details", "type", "_meta"} <= set(body[0]["errors"][0])


def test_custom_report_columns_envelope(client):
    body = client.get("/v1/company/custom-reports/columns").json()
    assert body["data"]["type"] == "Column"
    assert {c["attribute_id"] for c in body["data"]["attributes"]} >= {"first_name", "last_name"}


# ---- v2
def test_v2_next_links_are_absolute_and_absent_on_last_page(client):
    body = client.get("/v2/persons", {"limit": 50}).json()
    assert "next" not in body["_meta"]["links"]
    body = client.get("/v2/persons", {"limit": 10}).json()
    nxt = body["_meta"]["links"]["next"]["href"]
    assert nxt.startswith(client.url + "/v2/persons?") and "cursor=" in nxt


def test_attendance_next_links_can_be_relative():
    with Sandbox(employees=2, extra_args=["--relative-attendance-links"]) as s:
        c = Client(s)
        href = c.get("/v2/attendance-periods", {"limit": 5}).json()["_meta"]["links"]["next"]["href"]
        assert href.startswith("/v2/attendance-periods?") and "cursor=" in href
        href = c.get("/v2/persons", {"limit": 1}).json()["_meta"]["links"]["next"]["href"]
        assert href.startswith("http://")


def test_v2_limits_over_the_maximum_are_400_problem_json(client):
    for path, over in (("/v2/persons", 51), ("/v2/absence-periods", 101), ("/v2/compensations/types", 101),
                       ("/v2/recruiting/candidates", 201)):
        r = client.get(path, {"limit": over})
        assert r.status_code == 400, path
        assert r.headers["Content-Type"].startswith("application/problem+json")
        assert r.json()["errors"][0]["type"].endswith("common.bad_request")


def test_org_units_require_type(client):
    r = client.get("/v2/org-units")
    assert r.status_code == 400 and "type" in r.json()["errors"][0]["detail"]
    teams = client.read_v2("/v2/org-units", {"type": "team"})
    assert teams and {t["type"] for t in teams} == {"team"}


def test_attendance_timestamps_with_z_are_rejected(client):
    assert client.get("/v2/attendance-periods", {"updated_at.gte": "2026-01-01T12:00:00Z"}).status_code == 400
    assert client.get("/v2/attendance-periods", {"updated_at.gte": "2026-01-01T12:00:00", "limit": 1}).status_code == 200


def test_attendance_updated_filter_returns_exactly_the_matching_periods(client, sb):
    allp = sb.dataset("/v2/attendance-periods?person.id=10006")
    cut = sorted(p["updated_at"] for p in allp)[len(allp) // 2]
    got = client.read_v2("/v2/attendance-periods", {"person.id": "10006", "updated_at.gte": cut[:-1], "limit": 100})
    assert got == [p for p in allp if p["updated_at"] >= cut]


def test_attendance_periods_do_not_overlap_per_person_and_local_times(sb):
    recs = sb.dataset("/v2/attendance-periods?person.id=10001,10002")
    by = defaultdict(list)
    for r in recs:
        assert r["type"] in ("WORK", "BREAK") and not r["start"]["date_time"].endswith("Z")
        by[r["person"]["id"]].append((r["start"]["date_time"], r["end"]["date_time"]))
    assert set(by) == {"10001", "10002"}
    for spans in by.values():
        spans.sort()
        assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:]))
        assert {d[:10] for d, _ in spans} and len(spans) > 100


def test_absences_and_attendances_reference_existing_people_and_types(sb):
    people = {p["id"] for p in sb.dataset("/v2/persons")}
    types = {t["id"] for t in sb.dataset("/v2/absence-types")}
    aps = sb.dataset("/v2/absence-periods")
    assert all(a["person"]["id"] in people and a["absence_type"]["id"] in types for a in aps)
    projects = {p["id"] for p in sb.dataset("/v2/projects")}
    att = sb.dataset("/v2/attendance-periods?person.id=10009")
    assert all(a["project"] is None or a["project"]["id"] in projects for a in att)


def test_v1_and_v2_views_of_a_person_agree(sb):
    v2 = {p["id"]: p for p in sb.dataset("/v2/persons")}
    for e in sb.dataset("/v1/company/employees"):
        a = e["attributes"]
        p = v2[str(a["id"]["value"])]
        assert (p["first_name"], p["last_name"], p["email"]) == (a["first_name"]["value"], a["last_name"]["value"],
                                                                a["email"]["value"])
        assert dt.datetime.fromisoformat(a["last_modified_at"]["value"]) == \
            dt.datetime.fromisoformat(p["updated_at"].replace("Z", "+00:00"))


def test_recruiting_lists_are_newest_first_and_candidate_filters_exclusive(client, sb):
    for path in ("/v2/recruiting/candidates", "/v2/recruiting/applications", "/v2/recruiting/jobs"):
        ts = [r["updated_at"] for r in sb.dataset(path)]
        assert ts == sorted(ts, reverse=True) and len(ts) > 1
    r = client.get("/v2/recruiting/candidates", {"updated_at.gt": "2025-01-01T00:00:00Z",
                                                 "updated_at.lt": "2026-01-01T00:00:00Z"})
    assert r.status_code == 400


def test_stage_transitions_are_latest_first(sb):
    for app in sb.dataset("/v2/recruiting/applications")[:5]:
        tr = sb.dataset("/v2/recruiting/applications/%s/stage-transitions" % app["id"])
        ts = [t["entered_at"] for t in tr]
        assert ts == sorted(ts, reverse=True)
        assert tr[0]["stage"]["id"] == app["current_stage"]["id"]


def test_compensations_window_is_at_most_one_month_and_defaults_to_current_month(client):
    r = client.get("/v2/compensations", {"start_date": "2026-01-01", "end_date": "2026-03-31"})
    assert r.status_code == 400
    default = client.read_v2("/v2/compensations", {"limit": 100})
    # the current month of the sandbox clock, which is the wall clock (--clock real)
    this_month = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m")
    assert default and {c["effective_date"][:7] for c in default} == {this_month}


def test_persons_updated_at_gt_filter_is_strict(client, sb):
    persons = sb.dataset("/v2/persons")
    cut = sorted(p["updated_at"] for p in persons)[20]
    got = client.read_v2("/v2/persons", {"updated_at.gt": cut, "limit": 50})
    assert got == [p for p in persons if p["updated_at"] > cut]


def test_employments_point_to_their_person_and_supervisor(client, sb):
    for p in sb.dataset("/v2/persons")[:5]:
        for e in sb.dataset("/v2/persons/%s/employments" % p["id"]):
            assert e["person"]["id"] == p["id"]
            assert urlsplit(e["_meta"]["links"]["person"]["href"]).path == "/v2/persons/" + p["id"]
            assert {u["type"] for u in e["org_units"]} <= {"team", "department"}


def test_attendance_sort_by_updated_at_pages_through_everything_in_order(client, sb):
    path = "/v2/attendance-periods?person.id=10003,10004&sort=updated_at"
    got = client.read_v2("/v2/attendance-periods", {"person.id": "10003,10004", "sort": "updated_at", "limit": 100})
    assert got == sb.dataset(path)
    assert [r["updated_at"] for r in got] == sorted(r["updated_at"] for r in got)
    assert sorted(r["id"] for r in got) == sorted(r["id"] for r in sb.dataset("/v2/attendance-periods?person.id=10003,10004"))
