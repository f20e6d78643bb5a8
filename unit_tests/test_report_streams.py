"""report_streams: the v1 deprecation line, column-less v2 reports."""

from types import SimpleNamespace

from source_personio import report_streams as rs


def test_deprecation_names_the_date_and_only_v1_report_streams():
    line = rs.v1_deprecation_warning(["employees", "custom_reports", "custom_report_payroll", "report_v2_payroll", "reports_v2_list"])
    assert "2027-06-30" in line and "custom_report_payroll, custom_reports" in line
    assert rs.v1_deprecation_warning(["employees", "report_v2_payroll", "reports_v2_list"]) == ""


def test_v2_reports_without_columns_are_not_offered():
    streams = [SimpleNamespace(name="report_v2_grouped", json_schema={"properties": {}}),
               SimpleNamespace(name="report_v2_ok", json_schema={"properties": {"employee_id": {}}}),
               SimpleNamespace(name="custom_report_x", json_schema={"properties": {}})]
    assert [s.name for s in rs.without_columnless_v2_reports(streams)] == ["report_v2_ok", "custom_report_x"]
