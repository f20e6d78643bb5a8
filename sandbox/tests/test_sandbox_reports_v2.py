"""Report API v2 (issue 13, ../shared/personio-api/README.md §10.1): the list (most recent first, ``name`` /
``cursor`` / ``limit``, "Limit <= 0 returns all reports", "if query parameters are provided in addition to the
cursor and limit the request will fail", ``next`` a plain string), a report's rows as positional cells with
``_meta.columns``, grouped reports 400 "Unsupported nested type: null", only API-enabled reports, the reports
right missing → 400 "Unauthorized token". The rows are checked against the v1 custom reports of the same
company read through the v1 API."""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from personio_sandbox.testing import Sandbox
from sandbox_client import Client

N = 30


@pytest.fixture(scope="module")
def rsb():
    with Sandbox(employees=N, seed=9) as s:
        yield s, Client(s)


def _get(c, url_or_path, params=None):
    return c.get(url_or_path if url_or_path.startswith("http") else url_or_path, params)


def _read_list(c, limit):
    pages = []
    r = c.get("/v2/reports", {"limit": limit})
    while True:
        assert r.status_code == 200, r.text
        body = r.json()
        pages.append(body["_data"])
        nxt = body["_meta"]["links"].get("next")
        if nxt is None:
            return pages
        assert isinstance(nxt, str)  # a plain string, not {"href": ...}
        assert set(parse_qs(urlsplit(nxt).query)) <= {"cursor", "limit"}
        r = c.get(nxt)


def _read_rows(c, rid, limit=None, **params):
    pages, columns = [], None
    q = dict(params, **({"limit": limit} if limit else {}))
    r = c.get("/v2/reports/%s" % rid, q)
    while True:
        assert r.status_code == 200, r.text
        body = r.json()
        columns = columns or body["_meta"]["columns"]
        assert body["_meta"]["columns"] == columns
        pages.append(body["_data"])
        nxt = body["_meta"]["links"].get("next")
        if nxt is None:
            return columns, pages, body["report_config"]
        assert isinstance(nxt, str)
        r = c.get(nxt)


def _v1_reports(c):
    return [r["attributes"] for r in c.get("/v1/company/custom-reports/reports").json()["data"]]


def _v1_rows(c, rid):
    """Every v1 row of a report, paged with ``page`` (§2.2) until ``total_pages``."""
    out, page = [], 1
    while True:
        body = c.get("/v1/company/custom-reports/reports/%s" % rid, {"page": page, "limit": 7}).json()
        out.extend(body["data"][0]["attributes"]["items"])
        if page >= body["metadata"]["total_pages"]:
            return out
        page += 1


def _flat(pages):
    return [x for p in pages for x in p]


def test_list_is_most_recent_first_and_pages_with_plain_string_links(rsb):
    s, c = rsb
    pages = _read_list(c, limit=2)
    assert len(pages) >= 2 and all(len(p) <= 2 for p in pages)
    reports = _flat(pages)
    stamps = [r["updated_at"] for r in reports]
    assert stamps == sorted(stamps, reverse=True)
    everything = c.get("/v2/reports", {"limit": 0}).json()  # "Limit <= 0 returns all reports"
    assert [r["id"] for r in everything["_data"]] == [r["id"] for r in reports]
    assert "next" not in everything["_meta"]["links"]
    assert [r["id"] for r in s.truth("reports_v2")] == [r["id"] for r in reports]


def test_list_covers_the_report_types_of_the_v1_side(rsb):
    _s, c = rsb
    types = {r["type"] for r in c.get("/v2/reports", {"limit": 0}).json()["_data"]}
    assert {r["type"] for r in _v1_reports(c)} == types == {"point_in_time", "timeframe", "historical_data"}


def test_name_filter_then_cursor_pages_keep_the_filter(rsb):
    _s, c = rsb
    r = c.get("/v2/reports", {"name": "headcount", "limit": 1})
    got = r.json()["_data"]
    nxt = r.json()["_meta"]["links"]["next"]
    got += c.get(nxt).json()["_data"]
    assert len(got) == 2 and all("headcount" in x["name"].lower() for x in got)
    everything = c.get("/v2/reports", {"limit": 0}).json()["_data"]
    assert len([x for x in everything if "headcount" in x["name"].lower()]) == 2


def test_query_parameters_besides_cursor_and_limit_fail_with_a_cursor(rsb):
    s, c = rsb
    nxt = c.get("/v2/reports", {"limit": 1}).json()["_meta"]["links"]["next"]
    assert c.get(nxt).status_code == 200
    assert c.get(nxt + "&limit=3").status_code == 200
    r = c.get(nxt + "&name=Headcount")
    assert r.status_code == 400 and r.json()["errors"][0]["title"] == "Bad request"
    rid = next(x["id"] for x in s.truth("reports_v2") if x["type"] == "timeframe")
    rows_next = c.get("/v2/reports/%s" % rid, {"limit": 5}).json()["_meta"]["links"]["next"]
    assert c.get(rows_next + "&locale=de").status_code == 400
    assert c.get("/v2/reports", {"cursor": "not-a-cursor"}).status_code == 400


def test_rows_are_positional_cells_named_by_columns_and_page(rsb):
    s, c = rsb
    for rep in s.truth("reports_v2"):
        if rep["name"] == "Headcount by department":
            continue  # grouped
        columns, pages, config = _read_rows(c, rep["id"], limit=7)
        assert len(pages) >= 3 and all(len(p) <= 7 for p in pages)
        assert config["id"] == rep["id"]
        rows = _flat(pages)
        _cols, (all_rows,), _cfg = _read_rows(c, rep["id"])  # no limit: every row at once
        assert rows == all_rows
        for row in rows:
            assert [cell["attribute_id"] for cell in row] == [col["name"] for col in columns]
        assert {col["name"] for col in columns} <= {a["name"] for a in c.get("/v2/reports/attributes").json()["_data"]}
        truth = [x["row"] for x in s.truth("report_v2_rows") if x["report_id"] == rep["id"]]
        assert truth == rows


def _cell_value(cell):
    kind = next(k for k in cell if k != "attribute_id")
    v = cell[kind]
    return {"string_value": lambda: v["value"], "numeric_value": lambda: v["number"],
            "options_value": lambda: v["options"][0], "time_range_value": lambda: v["from"]}[kind]()


def test_rows_carry_the_same_data_as_the_v1_report(rsb):
    s, c = rsb
    for rep in s.truth("reports_v2"):
        if rep["name"] == "Headcount by department":
            continue
        columns, pages, _ = _read_rows(c, rep["id"], limit=11)
        names = [col["name"] for col in columns]
        v2 = {}
        for row in _flat(pages):
            rec = dict(zip(names, (_cell_value(x) for x in row)))
            v2[rec["employee_id"]] = rec
        v1 = {}
        for item in _v1_rows(c, rep["id"]):
            cells = {x["attribute_id"]: x for x in item.get("attributes") or item.get("historical_attributes")}
            v1[item["employee_id"]] = cells
        assert set(v2) == set(v1) and len(v1) > 0
        for eid, cells in v1.items():
            got = v2[eid]
            assert got["first_name"] == cells["first_name"]["value"]
            assert got["last_name"] == cells["last_name"]["value"]
            assert got["position"] == cells["position"]["value"]
            assert got["department"] == cells["department"]["value"]
            assert got["fix_salary"] == float(cells["fix_salary"]["amount"])
            if rep["type"] == "historical_data":
                assert got["effective_date"] == cells["first_name"]["effective_date"]


def test_reports_not_enabled_for_the_api_are_hidden(rsb):
    _s, c = rsb
    v2_ids = {r["id"] for r in c.get("/v2/reports", {"limit": 0}).json()["_data"]}
    v1_ids = {r["id"] for r in _v1_reports(c)}
    hidden = v1_ids - v2_ids
    assert v2_ids < v1_ids and hidden
    for rid in hidden:
        assert c.get("/v2/reports/%s" % rid).status_code == 404


def test_grouped_reports_and_unknown_ids_fail(rsb):
    _s, c = rsb
    grouped = next(r for r in c.get("/v2/reports", {"limit": 0}).json()["_data"] if r["name"] == "Headcount by department")
    r = c.get("/v2/reports/%s" % grouped["id"])
    assert r.status_code == 400 and r.json()["errors"][0]["detail"] == "Unsupported nested type: null"
    assert c.get("/v2/reports/00000000-0000-4000-8000-000000000000").status_code == 404


def test_locale_changes_display_names_not_column_names(rsb):
    s, c = rsb
    rid = next(x["id"] for x in s.truth("reports_v2") if x["type"] == "point_in_time" and x["name"] != "Headcount by department")
    en = c.get("/v2/reports/%s" % rid).json()["_meta"]["columns"]
    de = c.get("/v2/reports/%s" % rid, {"locale": "de"}).json()["_meta"]["columns"]
    assert [x["name"] for x in en] == [x["name"] for x in de]
    assert [x["display"] for x in en] != [x["display"] for x in de]


def test_without_the_reports_right_every_report_path_answers_400_unauthorized_token():
    with Sandbox(employees=8, seed=2, tenant="small_business") as s:
        c = Client(s)
        for path in ("/v2/reports", "/v2/reports/attributes", "/v2/reports/00000000-0000-4000-8000-000000000000"):
            r = c.get(path)
            assert r.status_code == 400, path
            assert r.json()["errors"][0]["detail"] == "Unauthorized token"
        assert s.truth("reports_v2") == [] and s.truth_unavailable("reports_v2")["status"] == 400


def test_missing_token_is_still_401_not_the_rights_answer():
    with Sandbox(employees=8, seed=2, tenant="small_business") as s:
        import requests
        assert requests.get(s.url + "/v2/reports", timeout=30).status_code == 401
