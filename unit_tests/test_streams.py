"""Per-stream behaviour against mocked Personio responses: paths, pagination, cursors, records."""

from __future__ import annotations

from airbyte_cdk.models import SyncMode
from airbyte_cdk.test.mock_http import HttpMocker, HttpRequest

from personio_mocks import (
    BASE,
    attr,
    json_response,
    mock_auth,
    mock_employee_attributes,
    read_stream,
    record_data,
    v1_employee,
    v1_list,
)


def employees_request(offset: int, **params: str) -> HttpRequest:
    return HttpRequest(f"{BASE}/v1/company/employees", query_params={"limit": "100", "offset": str(offset), **params})


# ---------------------------------------------------------------- employees


def test_employees_offset_is_a_record_offset_with_pages_of_100(config):
    # 150 employees; the second page starts at the first page's last record (offset 99): pages overlap by one
    with HttpMocker() as http:
        mock_auth(http)
        mock_employee_attributes(http)
        http.get(employees_request(0), json_response(v1_list([v1_employee(i) for i in range(1, 101)])))
        http.get(employees_request(99), json_response(v1_list([v1_employee(i) for i in range(100, 151)])))
        output = read_stream("employees", config)
    assert sorted(r["id"] for r in record_data(output)) == list(range(1, 151))  # employee 100 once


def test_employees_records_are_flat_columns_keyed_by_attribute_key(config):
    employee = v1_employee(7, first_name="Ann", weekly_working_hours=40)
    employee["attributes"]["dynamic_1234"] = {"label": "Shirt size", "value": "M", "type": "standard", "universal_id": None}
    employee["attributes"]["department"] = attr(
        "department", {"type": "Department", "attributes": {"id": 3, "name": "IT"}}
    )
    employee["attributes"]["supervisor"] = attr(
        "supervisor", {"type": "Employee", "attributes": {"id": attr("id", 2), "first_name": attr("first_name", "Bob")}}
    )
    with HttpMocker() as http:
        mock_auth(http)
        types = ("id", "integer"), ("last_modified_at", "date"), ("first_name", "standard"), ("weekly_working_hours", "integer")
        mock_employee_attributes(http, types + (("dynamic_1234", "list"), ("department", "standard"), ("supervisor", "standard")))
        http.get(employees_request(0), json_response(v1_list([employee])))
        (record,) = record_data(read_stream("employees", config))
    assert record["first_name"] == "Ann"
    assert record["weekly_working_hours"] == 40
    assert record["dynamic_1234"] == "M"
    assert record["department"] == {"id": 3, "name": "IT"}
    assert record["supervisor"] == {"id": 2, "first_name": "Bob"}


def test_employees_first_incremental_sync_reads_everyone_without_updated_since(config):
    with HttpMocker() as http:
        mock_auth(http)
        mock_employee_attributes(http)
        http.get(employees_request(0), json_response(v1_list([v1_employee(1, "2024-05-01T10:00:00+00:00")])))
        output = read_stream("employees", config, SyncMode.incremental)
    assert [r["id"] for r in record_data(output)] == [1]
    assert output.most_recent_state.stream_state.last_modified_at.startswith("2024-05-01T10:00:00")


def test_employees_incremental_sends_updated_since_state_minus_lookback(config):
    config = {**config, "lookback_window_days": 2}
    with HttpMocker() as http:
        mock_auth(http)
        mock_employee_attributes(http)
        http.get(
            employees_request(0, updated_since="2024-05-08T12:00:00"),
            json_response(v1_list([v1_employee(9, "2024-05-11T08:00:00+00:00")])),
        )
        output = read_stream(
            "employees", config, SyncMode.incremental, state={"last_modified_at": "2024-05-10T12:00:00+0000"}
        )
    assert [r["id"] for r in record_data(output)] == [9]
    assert output.most_recent_state.stream_state.last_modified_at.startswith("2024-05-11T08:00:00")


# ---------------------------------------------------------------- absences (time-offs)


def time_off(time_off_id: int, updated_at: str = "2024-03-01T09:00:00+01:00") -> dict:
    return {
        "type": "TimeOffPeriod",
        "attributes": {
            "id": time_off_id,
            "status": "approved",
            "days_count": 1.5,
            "time_off_type": {"type": "TimeOffType", "attributes": {"id": 5, "name": "Vacation", "category": "paid_vacation"}},
            "employee": {"type": "Employee", "attributes": {"id": attr("id", 42), "email": attr("email", "a@b.c")}},
            "updated_at": updated_at,
        },
    }


def time_offs_request(page: int, updated_from: str = "2024-01-01", limit: int = 200) -> HttpRequest:
    return HttpRequest(
        f"{BASE}/v1/company/time-offs",
        query_params={"limit": str(limit), "offset": str(page), "updated_from": updated_from},
    )


def test_time_offs_offset_is_a_page_number(config):
    # 230 time-offs: page 1 of 200 holds positions 0..199; page 2 of 199 starts at position 199, the
    # last record read (pages of a fixed size cannot overlap, so the limit changes)
    with HttpMocker() as http:
        mock_auth(http)
        http.get(time_offs_request(1), json_response(v1_list([time_off(i) for i in range(200)])))
        http.get(time_offs_request(2, limit=199), json_response(v1_list([time_off(i) for i in range(199, 230)])))
        output = read_stream("absences", config)
    assert sorted(r["id"] for r in record_data(output)) == list(range(230))


def test_absences_nested_employee_and_type_stay_objects_with_plain_values(config):
    with HttpMocker() as http:
        mock_auth(http)
        http.get(time_offs_request(1), json_response(v1_list([time_off(1)])))
        (record,) = record_data(read_stream("absences", config))
    assert record["employee"] == {"id": 42, "email": "a@b.c"}
    assert record["time_off_type"] == {"id": 5, "name": "Vacation", "category": "paid_vacation"}
    assert record["days_count"] == 1.5


def test_absences_incremental_re_reads_from_the_day_of_the_state_minus_lookback(config):
    with HttpMocker() as http:
        mock_auth(http)
        http.get(time_offs_request(1, updated_from="2024-03-09"), json_response(v1_list([time_off(3, "2024-03-11T00:30:00+00:00")])))
        output = read_stream("absences", config, SyncMode.incremental, state={"updated_at": "2024-03-10T23:59:00+0000"})
    assert [r["id"] for r in record_data(output)] == [3]
    assert output.most_recent_state.stream_state.updated_at.startswith("2024-03-11T00:30:00")


# ---------------------------------------------------------------- absence types, document categories, reports list


def time_off_type(type_id: int) -> dict:
    return {"type": "TimeOffType", "attributes": {"id": type_id, "name": f"T{type_id}", "category": "paid_vacation", "unit": "day"}}


def test_absence_types_are_flattened_and_paged_by_record_offset(config):
    with HttpMocker() as http:
        mock_auth(http)
        http.get(
            HttpRequest(f"{BASE}/v1/company/time-off-types", query_params={"limit": "200", "offset": "0"}),
            json_response(v1_list([time_off_type(i) for i in range(1, 201)])),
        )
        http.get(
            HttpRequest(f"{BASE}/v1/company/time-off-types", query_params={"limit": "200", "offset": "199"}),
            json_response(v1_list([time_off_type(200), time_off_type(201)])),
        )
        records = record_data(read_stream("absence_types", config))
    assert sorted(r["id"] for r in records) == list(range(1, 202))
    assert records[0] == {"id": 1, "name": "T1", "category": "paid_vacation", "unit": "day"}


def test_document_categories_keep_top_level_id_and_name(config):
    with HttpMocker() as http:
        mock_auth(http)
        http.get(
            HttpRequest(f"{BASE}/v1/company/document-categories"),
            json_response(v1_list([{"id": 11, "type": "DocumentCategory", "attributes": {"name": "Contracts"}}])),
        )
        records = record_data(read_stream("document_categories", config))
    assert records == [{"id": 11, "name": "Contracts"}]


REPORT_ID = "eea50309-d1b1-47d6-bc7e-27de7a3ab491"


def report_meta(report_type: str = "point_in_time", **extra) -> dict:
    return {"type": "Report", "attributes": {"id": REPORT_ID, "name": "Headcount", "type": report_type, **extra}}


def test_custom_reports_list_returns_report_metadata(config):
    with HttpMocker() as http:
        mock_auth(http)
        http.get(HttpRequest(f"{BASE}/v1/company/custom-reports/reports"), json_response(v1_list([report_meta()])))
        records = record_data(read_stream("custom_reports_list", config))
    assert [(r["id"], r["type"]) for r in records] == [(REPORT_ID, "point_in_time")]


# ---------------------------------------------------------------- custom report rows


def report_page(items: list, page: int, total_pages: int, report_type: str = "point_in_time", total: int = 3, limit: int = 200) -> dict:
    return {
        "success": True,
        "metadata": {"total_elements": total, "current_page": page, "total_pages": total_pages},
        "limit": limit,
        "data": [report_meta(report_type, items=items)],
    }


def report_rows_request(page: int, limit: int = 200) -> HttpRequest:
    return HttpRequest(
        f"{BASE}/v1/company/custom-reports/reports/{REPORT_ID}", query_params={"limit": str(limit), "page": str(page)}
    )


def test_custom_reports_follow_page_numbers_past_the_first_page_of_200_employees(config):
    def item(employee_id):
        return {"employee_id": employee_id, "attributes": [{"attribute_id": "first_name", "data_type": "TEXT", "value": f"E{employee_id}", "employee_id": employee_id}]}

    # 240 employees: page 1 of 200 holds positions 0..199; page 2 of 199 starts at position 199
    with HttpMocker() as http:
        mock_auth(http)
        http.get(HttpRequest(f"{BASE}/v1/company/custom-reports/reports"), json_response(v1_list([report_meta()])))
        http.get(report_rows_request(1), json_response(report_page([item(i) for i in range(1, 201)], 1, 2, total=240)))
        http.get(
            report_rows_request(2, limit=199),
            json_response(report_page([item(i) for i in range(200, 241)], 2, 2, total=240, limit=199)),
        )
        records = record_data(read_stream("custom_reports", config))
    assert sorted((r["report_id"], r["employee_id"], r["effective_date"]) for r in records) == [
        (REPORT_ID, i, "") for i in range(1, 241)
    ]
    assert records[0]["attributes"] == [{"attribute_id": "first_name", "data_type": "TEXT", "value": "E1"}]


def test_custom_reports_historical_rows_are_one_per_employee_and_effective_date(config):
    cells = [
        {"attribute_id": "department", "data_type": "ENTITY", "value": "IT", "entity_id": "1", "employee_id": 5, "effective_date": "2022-01-01"},
        {"attribute_id": "position", "data_type": "TEXT", "value": "Dev", "employee_id": 5, "effective_date": "2022-01-01"},
        {"attribute_id": "department", "data_type": "ENTITY", "value": "Ops", "entity_id": "2", "employee_id": 5, "effective_date": "2023-06-01"},
    ]
    with HttpMocker() as http:
        mock_auth(http)
        http.get(HttpRequest(f"{BASE}/v1/company/custom-reports/reports"), json_response(v1_list([report_meta("historical_data")])))
        http.get(report_rows_request(1), json_response(report_page([{"employee_id": 5, "historical_attributes": cells}], 1, 1, "historical_data")))
        records = record_data(read_stream("custom_reports", config))
    by_date = {r["effective_date"]: r for r in records}
    assert sorted(by_date) == ["2022-01-01", "2023-06-01"]
    assert [c["attribute_id"] for c in by_date["2022-01-01"]["attributes"]] == ["department", "position"]
    assert by_date["2023-06-01"]["attributes"] == [{"attribute_id": "department", "data_type": "ENTITY", "value": "Ops", "entity_id": "2"}]


# ---------------------------------------------------------------- balances


def test_absence_balances_are_read_for_every_employee_with_employee_id(config):
    with HttpMocker() as http:
        mock_auth(http)
        mock_employee_attributes(http)
        http.get(employees_request(0), json_response(v1_list([v1_employee(1), v1_employee(2)])))
        for employee_id, balance in ((1, 10.5), (2, 3.0)):
            http.get(
                HttpRequest(f"{BASE}/v1/company/employees/{employee_id}/absences/balance"),
                json_response(v1_list([{"id": 77, "name": "Paid Vacation", "category": "paid_vacation", "balance": balance, "available_balance": balance - 1}])),
            )
        records = record_data(read_stream("employees_absences_balance", config))
    assert sorted((r["employee_id"], r["id"], r["balance"]) for r in records) == [(1, 77, 10.5), (2, 77, 3.0)]


# ---------------------------------------------------------------- v2: attendances and projects


def attendance(attendance_id: str, updated_at: str = "2024-04-01T08:00:00Z") -> dict:
    return {"id": attendance_id, "type": "WORK", "person": {"id": "42"}, "updated_at": updated_at}


def attendances_request(cursor: str | None = None, updated_gte: str = "2024-01-01T00:00:00") -> HttpRequest:
    # sort=updated_at: read in updated_at windows (source_personio/time_windows.py, unit_tests/test_time_windows.py)
    params = {"limit": "100", "updated_at.gte": updated_gte, "sort": "updated_at"}
    if cursor:
        params["cursor"] = cursor
    return HttpRequest(f"{BASE}/v2/attendance-periods", query_params=params)


def project(project_id: str) -> dict:
    return {"id": project_id, "name": "P" + project_id}


def projects_request(cursor: str | None = None) -> HttpRequest:
    return HttpRequest(f"{BASE}/v2/projects", query_params={"limit": "100", **({"cursor": cursor} if cursor else {})})


def test_v2_cursor_lists_follow_absolute_and_relative_next_links_by_cursor(config):
    # (attendance periods sent relative links until 2025-09-15; they are read in updated_at windows now)
    with HttpMocker() as http:
        mock_auth(http, v1=False, v2=True)
        http.get(
            projects_request(),
            json_response({"_data": [project("a1")], "_meta": {"links": {"next": {"href": f"{BASE}/v2/projects?cursor=c2&limit=100"}}}}),
        )
        http.get(
            projects_request("c2"),
            json_response({"_data": [project("a2")], "_meta": {"links": {"next": {"href": "/v2/projects?cursor=c3"}}}}),
        )
        http.get(projects_request("c3"), json_response({"_data": [project("a3")], "_meta": {"links": {}}}))
        records = record_data(read_stream("projects", config))
    assert [r["id"] for r in records] == ["a1", "a2", "a3"]


def test_v2_cursor_lists_fail_clearly_when_the_next_link_keeps_repeating_the_cursor(config):
    with HttpMocker() as http:
        mock_auth(http, v1=False, v2=True)
        http.get(
            projects_request(),
            json_response({"_data": [project("a1")], "_meta": {"links": {"next": {"href": "/v2/projects?cursor=c2"}}}}),
        )
        loop = projects_request("c2")
        http.get(loop, json_response({"_data": [project("a2")], "_meta": {"links": {"next": {"href": "/v2/projects?cursor=c2"}}}}))
        output = read_stream("projects", config, expecting_exception=True)
        http.assert_number_of_calls(loop, 3)  # the page, then two re-requests; no endless loop
    assert {r["id"] for r in record_data(output)} == {"a1", "a2"}
    assert any("same cursor 3 times" in e.trace.error.message for e in output.errors)


def test_attendances_incremental_sends_updated_at_gte_without_z(config):
    with HttpMocker() as http:
        mock_auth(http, v1=False, v2=True)
        http.get(
            attendances_request(updated_gte="2024-04-02T07:30:00"),
            json_response({"_data": [attendance("a9", "2024-04-03T10:00:00Z")], "_meta": {"links": {}}}),
        )
        output = read_stream("attendances", config, SyncMode.incremental, state={"updated_at": "2024-04-02T07:30:00+0000"})
    assert [r["id"] for r in record_data(output)] == ["a9"]
    assert output.most_recent_state.stream_state.updated_at.startswith("2024-04-03T10:00:00")


def test_projects_are_read_from_v2_with_cursor_pages(config):
    with HttpMocker() as http:
        mock_auth(http, v1=False, v2=True)
        http.get(
            HttpRequest(f"{BASE}/v2/projects", query_params={"limit": "100"}),
            json_response({"_data": [{"id": "p1", "name": "Alpha"}], "_meta": {"links": {"next": {"href": f"{BASE}/v2/projects?cursor=n1"}}}}),
        )
        http.get(
            HttpRequest(f"{BASE}/v2/projects", query_params={"limit": "100", "cursor": "n1"}),
            json_response({"_data": [{"id": "p2", "name": "Beta"}], "_meta": {"links": {"self": {"href": "x"}}}}),
        )
        records = record_data(read_stream("projects", config))
    assert [(r["id"], r["name"]) for r in records] == [("p1", "Alpha"), ("p2", "Beta")]
