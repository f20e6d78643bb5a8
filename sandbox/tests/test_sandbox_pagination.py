"""For every list endpoint a full paginated read returns exactly /_sandbox/dataset, using each
endpoint's own pagination style (v1 record offset, v1 page number, report page, v2 cursor)."""
from __future__ import annotations

import pytest

from sandbox_client import Client
from personio_sandbox.testing import Sandbox


def _ids(records, key=lambda r: r.get("id") if "id" in r else r["attributes"]["id"]):
    return [key(r) for r in records]


def test_v1_employees_full_read_equals_dataset(client, sb):
    got = client.read_v1_offset("/v1/company/employees", limit=7)
    assert got == sb.dataset("/v1/company/employees")
    assert len(got) == 40


def test_v1_time_offs_full_read_by_page_number_equals_dataset(client, sb):
    got = client.read_v1_pages("/v1/company/time-offs", limit=9)
    want = sb.dataset("/v1/company/time-offs")
    assert got == want and len(want) > 50
    assert len({r["attributes"]["id"] for r in got}) == len(got)


def test_v1_absence_periods_full_read_by_page_number_equals_dataset(client, sb):
    got = client.read_v1_pages("/v1/company/absence-periods", limit=5)
    want = sb.dataset("/v1/company/absence-periods")
    assert got == want and len(want) > 5


@pytest.mark.parametrize("path", ["/v1/company/time-off-types", "/v1/company/document-categories",
                                  "/v1/company/custom-reports/reports"])
def test_v1_unpaginated_lists_equal_dataset(client, sb, path):
    body = client.get(path).json()
    assert body["success"] is True
    assert body["data"] == sb.dataset(path) and body["data"]


def test_v1_balance_equals_dataset_for_each_employee(client, sb):
    for eid in [10001, 10017, 10040]:
        path = "/v1/company/employees/%d/absences/balance" % eid
        body = client.get(path).json()
        assert body["data"] == sb.dataset(path)
        assert {b["name"] for b in body["data"]} >= {"Paid vacation", "Sick leave"}


def test_custom_report_items_paged_with_page_param_equal_dataset(client, sb):
    reports = client.get("/v1/company/custom-reports/reports").json()["data"]
    assert {r["attributes"]["type"] for r in reports} == {"point_in_time", "timeframe", "historical_data"}
    for r in reports:
        rid = r["attributes"]["id"]
        items, page = [], 1
        while True:
            body = client.get("/v1/company/custom-reports/reports/" + rid, {"page": page, "limit": 6}).json()
            items.extend(body["data"][0]["attributes"]["items"])
            if page >= body["metadata"]["total_pages"]:
                break
            page += 1
        assert items == sb.dataset("/v1/company/custom-reports/reports/" + rid)
        key = "historical_attributes" if r["attributes"]["type"] == "historical_data" else "attributes"
        assert all(key in it for it in items)


V2_LISTS = ["/v2/persons", "/v2/absence-types", "/v2/absence-periods", "/v2/attendance-periods?person.id=10002",
            "/v2/projects", "/v2/legal-entities", "/v2/org-units?type=department", "/v2/org-units?type=team",
            "/v2/cost-centers", "/v2/workplaces", "/v2/compensations", "/v2/compensations?start_date=2026-03-01&end_date=2026-03-31",
            "/v2/compensations/types", "/v2/recruiting/candidates", "/v2/recruiting/applications", "/v2/recruiting/jobs",
            "/v2/recruiting/categories"]


@pytest.mark.parametrize("path", V2_LISTS)
def test_v2_cursor_read_with_small_pages_equals_dataset(client, sb, path):
    p, _, q = path.partition("?")
    params = dict(x.split("=") for x in q.split("&")) if q else {}
    params["limit"] = 3
    got = client.read_v2(p, params)
    want = sb.dataset(path)
    assert got == want and len(want) > 0
    assert len({r["id"] for r in got}) == len(got)


def test_v2_sub_resources_equal_dataset(client, sb):
    emp = client.read_v2("/v2/persons/10003/employments", {"limit": 1})
    assert emp == sb.dataset("/v2/persons/10003/employments") and emp[0]["person"]["id"] == "10003"
    ap = sb.dataset("/v2/absence-periods")[0]
    bd = client.read_v2("/v2/absence-periods/%s/breakdowns" % ap["id"], {"limit": 1})
    assert bd == sb.dataset("/v2/absence-periods/%s/breakdowns" % ap["id"]) and bd
    app = sb.dataset("/v2/recruiting/applications")[0]
    st = client.read_v2("/v2/recruiting/applications/%s/stage-transitions" % app["id"], {"limit": 1})
    assert st == sb.dataset("/v2/recruiting/applications/%s/stage-transitions" % app["id"]) and st


def test_v2_attendance_full_company_read_equals_dataset():
    with Sandbox(employees=3, seed=5) as small:
        c = Client(small)
        got = c.read_v2("/v2/attendance-periods", {"limit": 100})
        assert got == small.dataset("/v2/attendance-periods")
        assert len(got) > 1000  # a year of WORK + BREAK periods per person


def test_get_by_id_returns_the_bare_record_from_the_list(client, sb):
    person = sb.dataset("/v2/persons")[5]
    assert client.get("/v2/persons/" + person["id"]).json() == person
    att = sb.dataset("/v2/attendance-periods?person.id=10004")[10]
    assert client.get("/v2/attendance-periods/" + att["id"]).json() == att
    emp = sb.dataset("/v1/company/employees")[3]
    body = client.get("/v1/company/employees/%d" % emp["attributes"]["id"]["value"]).json()
    assert body == {"success": True, "data": emp}
