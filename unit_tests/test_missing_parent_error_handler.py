"""MissingParentErrorHandler: a child request for a parent deleted during the sync (HTTP 404) skips
that parent with one warning naming stream, parent id and Personio's answer; the stream and the sync
go on. Anything else still fails as before."""

from __future__ import annotations

from typing import Any, Dict, List

import pytest
from airbyte_cdk.models import SyncMode
from airbyte_cdk.test.mock_http import HttpMocker, HttpRequest

from personio_mocks import BASE, json_response, mock_auth, mock_employee_attributes, read_stream, record_data, v1_employee, v1_list

V1_NOT_FOUND = {"success": False, "error": {"code": 404, "message": "Es ist ein Problem aufgetreten"}}


def v2_not_found(detail: str, kind: str = "common.resource_not_found") -> Dict[str, Any]:
    return {
        "personio_trace_id": "t-1",
        "timestamp": "2026-12-01T08:00:00+00:00",
        "errors": [{"title": "Resource not found", "detail": detail, "type": f"https://developer.personio.de/reference/errors#{kind}", "_meta": {}}],
    }


def v2_page(records: List[Dict[str, Any]]) -> Any:
    return json_response({"_data": records, "_meta": {"links": {}}})


def v2_request(path: str, **params: str) -> HttpRequest:
    return HttpRequest(f"{BASE}/v2{path}", query_params=params)


def warnings(output) -> List[str]:
    return [m.log.message for m in output.logs if m.log.level.value == "WARN"]


def balance(balance_id: int) -> Dict[str, Any]:
    return {"id": balance_id, "name": "Paid Vacation", "category": "paid_vacation", "balance": 3.0, "available_balance": 2.0}


def test_a_balance_of_an_employee_deleted_mid_sync_is_skipped_with_one_warning(config):
    with HttpMocker() as http:
        mock_auth(http)
        mock_employee_attributes(http)
        http.get(
            HttpRequest(f"{BASE}/v1/company/employees", query_params={"limit": "100", "offset": "0"}),
            json_response(v1_list([v1_employee(1), v1_employee(2), v1_employee(3)])),
        )
        for employee_id in (1, 3):
            http.get(HttpRequest(f"{BASE}/v1/company/employees/{employee_id}/absences/balance"), json_response(v1_list([balance(77)])))
        missing = HttpRequest(f"{BASE}/v1/company/employees/2/absences/balance")
        http.get(missing, json_response(V1_NOT_FOUND, 404))
        output = read_stream("employees_absences_balance", config)
        http.assert_number_of_calls(missing, 1)  # skipped, not retried
    assert not output.errors, [e.trace.error.message for e in output.errors]
    assert sorted(r["employee_id"] for r in record_data(output)) == [1, 3]
    (warning,) = [w for w in warnings(output) if "employee 2" in w]
    assert "employees_absences_balance" in warning and "404" in warning and "Es ist ein Problem aufgetreten" in warning
    assert len([w for w in warnings(output) if w.startswith("Skipped employees_absences_balance")]) == 1


@pytest.mark.parametrize(
    "stream, parent_path, parent, child_path, child_params, child_record",
    [
        (
            "employments",
            ("/persons", {"limit": "50"}),
            "person",
            "/persons/{}/employments",
            {"limit": "50"},
            lambda pid: {"id": f"e{pid}", "person": {"id": pid}, "updated_at": "2024-01-01T00:00:00Z"},
        ),
        (
            "absence_period_breakdowns",
            ("/absence-periods", {"limit": "100", "updated_at.gte": "2024-01-01T00:00:00"}),
            "absence period",
            "/absence-periods/{}/breakdowns",
            {"limit": "28"},
            lambda pid: {"date": "2024-02-01", "effective_duration": {"unit": "DAY", "value": 1}},
        ),
        (
            "recruiting_application_stage_transitions",
            ("/recruiting/applications", {"limit": "200"}),
            "application",
            "/recruiting/applications/{}/stage-transitions",
            {"limit": "200"},
            lambda pid: {"entered_at": "2024-02-03T00:00:00Z", "stage": {"id": "1", "name": "New"}},
        ),
    ],
    ids=["employments", "breakdowns", "stage transitions"],
)
@pytest.mark.parametrize("sync_mode", [SyncMode.full_refresh, SyncMode.incremental])
def test_a_v2_child_of_a_parent_deleted_mid_sync_is_skipped_with_one_warning(
    config, stream, parent_path, parent, child_path, child_params, child_record, sync_mode
):
    path, params = parent_path
    parents = [{"id": pid, "updated_at": "2024-02-01T00:00:00Z"} for pid in ("p1", "p2", "p3")]
    with HttpMocker() as http:
        mock_auth(http, v1=False, v2=True)
        http.get(v2_request(path, **params), v2_page(parents))
        for pid in ("p1", "p3"):
            http.get(v2_request(child_path.format(pid), **child_params), v2_page([child_record(pid)]))
        missing = v2_request(child_path.format("p2"), **child_params)
        http.get(missing, json_response(v2_not_found("The requested resource was not found"), 404))
        output = read_stream(stream, config, sync_mode)
        http.assert_number_of_calls(missing, 1)
    assert not output.errors, [e.trace.error.message for e in output.errors]
    assert len(record_data(output)) == 2  # the two parents that still exist
    skipped = [w for w in warnings(output) if w.startswith(f"Skipped {stream} ")]
    assert len(skipped) == 1, skipped
    assert f"{parent} p2" in skipped[0] and "404" in skipped[0] and "The requested resource was not found" in skipped[0]
    if sync_mode == SyncMode.incremental:
        assert output.most_recent_state is not None  # the stream completed and checkpointed


def test_a_404_saying_the_endpoint_does_not_exist_still_fails_the_stream(config):
    """Personio answers 404 "endpoint not found" for a tenant without the module: that is no missing parent."""
    with HttpMocker() as http:
        mock_auth(http, v1=False, v2=True)
        http.get(v2_request("/recruiting/applications", limit="200"), v2_page([{"id": "a1", "updated_at": "2024-02-01T00:00:00Z"}]))
        http.get(
            v2_request("/recruiting/applications/a1/stage-transitions", limit="200"),
            json_response(v2_not_found("The endpoint with /v2/recruiting/applications/a1/stage-transitions was not found.", "apinot_found"), 404),
        )
        output = read_stream("recruiting_application_stage_transitions", config, expecting_exception=True)
    assert output.errors
    assert not [w for w in warnings(output) if w.startswith("Skipped recruiting_application_stage_transitions ")]


def test_a_404_of_a_parent_list_still_fails_the_stream(config):
    """Only the per-parent requests skip a 404: the parent list itself answering 404 is an error."""
    with HttpMocker() as http:
        mock_auth(http, v1=False, v2=True)
        http.get(v2_request("/persons", limit="50"), json_response(v2_not_found("Not found"), 404))
        output = read_stream("persons", config, expecting_exception=True)
    assert output.errors


def test_other_child_errors_still_fail_the_stream(config, sleeps):
    with HttpMocker() as http:
        mock_auth(http)
        mock_employee_attributes(http)
        http.get(
            HttpRequest(f"{BASE}/v1/company/employees", query_params={"limit": "100", "offset": "0"}),
            json_response(v1_list([v1_employee(1)])),
        )
        http.get(
            HttpRequest(f"{BASE}/v1/company/employees/1/absences/balance"),
            json_response({"success": False, "error": {"code": 0, "message": "Something else"}}, 200),
        )
        output = read_stream("employees_absences_balance", config, expecting_exception=True)
    assert output.errors
    assert any("success=false" in e.trace.error.message for e in output.errors)
