"""report_v2: Report API v2 rows as named, typed records; plain-string next links; grouped reports."""

from __future__ import annotations


from airbyte_cdk.models import Level
from airbyte_cdk.test.mock_http import HttpMocker, HttpRequest

from personio_mocks import BASE, json_response, mock_auth, read_stream, record_data
from source_personio.report_v2 import cell_fields, fields_of_columns

RID = "1985b59f-3a51-43f4-b772-8bf865b1d230"
COLUMNS = [
    {"name": "employee_id", "display": "Employee ID", "type": "NUMERIC"},
    {"name": "department", "display": "Department", "type": "OPTIONS"},
    {"name": "effective_date", "display": "Effective date", "type": "TIME_RANGE"},
    {"name": "position", "display": "Position", "type": "STRING"},
]


def row(employee_id, department, since, position, with_ids=True):
    cells = [
        {"numeric_value": {"number": employee_id}},
        {"options_value": {"options": [department]}},
        {"time_range_value": {"from": since, "to": None}},
        {"string_value": {"value": position}},
    ]
    if with_ids:
        for cell, column in zip(cells, COLUMNS):
            cell["attribute_id"] = column["name"]
    return cells


def report_page(rows, next_link=None):
    links = {"self": f"{BASE}/v2/reports/{RID}"}
    if next_link:
        links["next"] = next_link
    return {"report_config": {"id": RID}, "_data": rows, "_meta": {"columns": COLUMNS, "links": links}}


def mock_report_list(http_mocker, reports):
    http_mocker.get(HttpRequest(f"{BASE}/v1/company/custom-reports/reports"), json_response({"success": True, "data": []}))
    http_mocker.get(HttpRequest(f"{BASE}/v2/reports", query_params={"limit": "50"}), json_response({"_data": reports, "_meta": {"links": {}}}))


def config_with_reports(config):
    return dict(config, custom_report_streams=True)


def test_fields_are_named_by_column_and_time_ranges_split():
    assert fields_of_columns(COLUMNS + [{"name": "x", "type": "CURRENCY"}]) == [
        ("employee_id", "NUMERIC"), ("department", "OPTIONS"), ("effective_date_from", "DATE"),
        ("effective_date_to", "DATE"), ("position", "STRING"), ("x", "UNKNOWN"),
    ]
    assert cell_fields("x", "", {"attribute_id": "x", "currency_value": {"code": "EUR"}}) == {"x": {"currency_value": {"code": "EUR"}}}


def test_report_rows_follow_plain_next_links_with_only_cursor_and_limit(config):
    with HttpMocker() as http_mocker:
        mock_auth(http_mocker, v1=True, v2=True)
        mock_report_list(http_mocker, [{"id": RID, "name": "Moves", "type": "historical_data", "created_at": "2026-01-01T00:00:00Z"}])
        # the schema: one row asked for
        http_mocker.get(HttpRequest(f"{BASE}/v2/reports/{RID}", query_params={"limit": "1"}), json_response(report_page([row(1, "Sales", "2025-01-01", "Rep")])))
        http_mocker.get(
            HttpRequest(f"{BASE}/v2/reports/{RID}", query_params={"limit": "200"}),
            json_response(report_page([row(1, "Sales", "2025-01-01", "Rep"), row(1, "Ops", "2025-06-01", "Lead")], f"{BASE}/v2/reports/{RID}?cursor=c2&limit=200")),
        )
        # page 2: exactly cursor and limit (HttpMocker matches the query exactly)
        http_mocker.get(
            HttpRequest(f"{BASE}/v2/reports/{RID}", query_params={"cursor": "c2", "limit": "200"}),
            json_response(report_page([row(2, "Ops", "2024-03-01", "CTO", with_ids=False)])),
        )
        output = read_stream("report_v2_moves", config_with_reports(config))
    assert not output.errors
    assert record_data(output) == [
        {"employee_id": 1, "department": ["Sales"], "effective_date_from": "2025-01-01", "position": "Rep"},
        {"employee_id": 1, "department": ["Ops"], "effective_date_from": "2025-06-01", "position": "Lead"},
        # cells without attribute_id: named by the column at their position
        {"employee_id": 2, "department": ["Ops"], "effective_date_from": "2024-03-01", "position": "CTO"},
    ]


def test_a_cell_is_named_by_its_attribute_id_when_the_row_is_reordered(config):
    shuffled = list(reversed(row(7, "HR", "2025-02-02", "Boss")))
    with HttpMocker() as http_mocker:
        mock_auth(http_mocker, v1=True, v2=True)
        mock_report_list(http_mocker, [{"id": RID, "name": "Moves", "type": "historical_data", "created_at": "2026-01-01T00:00:00Z"}])
        http_mocker.get(HttpRequest(f"{BASE}/v2/reports/{RID}", query_params={"limit": "1"}), json_response(report_page([])))
        http_mocker.get(HttpRequest(f"{BASE}/v2/reports/{RID}", query_params={"limit": "200"}), json_response(report_page([shuffled])))
        output = read_stream("report_v2_moves", config_with_reports(config))
    assert record_data(output) == [{"employee_id": 7, "department": ["HR"], "effective_date_from": "2025-02-02", "position": "Boss"}]


def test_a_grouped_report_is_skipped_with_a_warning_saying_why(config):
    grouped = {"errors": [{"title": "Bad Request", "detail": "Unsupported nested type: null"}]}
    with HttpMocker() as http_mocker:
        mock_auth(http_mocker, v1=True, v2=True)
        mock_report_list(http_mocker, [{"id": RID, "name": "By team", "type": "point_in_time", "created_at": "2026-01-01T00:00:00Z"}])
        http_mocker.get(HttpRequest(f"{BASE}/v2/reports/{RID}", query_params={"limit": "1"}), json_response(grouped, 400))
        http_mocker.get(HttpRequest(f"{BASE}/v2/reports/{RID}", query_params={"limit": "200"}), json_response(grouped, 400))
        output = read_stream("report_v2_by_team", config_with_reports(config))
    assert not output.errors and not output.records
    warnings = [m.log.message for m in output.logs if m.log.level == Level.WARN]
    assert any(w.startswith("Skipped stream report_v2_by_team") and "grouped" in w and "Unsupported nested type" in w for w in warnings)


def test_the_report_list_follows_a_plain_string_next_link(config):
    with HttpMocker() as http_mocker:
        mock_auth(http_mocker, v1=False, v2=True)
        http_mocker.get(
            HttpRequest(f"{BASE}/v2/reports", query_params={"limit": "50"}),
            json_response({"_data": [{"id": "a"}], "_meta": {"links": {"next": f"{BASE}/v2/reports?cursor=n2&limit=50"}}}),
        )
        http_mocker.get(HttpRequest(f"{BASE}/v2/reports", query_params={"cursor": "n2", "limit": "50"}), json_response({"_data": [{"id": "b"}], "_meta": {"links": {}}}))
        output = read_stream("reports_v2_list", config)
    assert [r["id"] for r in record_data(output)] == ["a", "b"]
