"""error_handling.py: Personio's 429/5xx retried, success=false an error, a deleted parent skipped, and the
fast path giving every response the manifest handler's resolution."""

from __future__ import annotations

import json
from typing import Any, Dict, List

import pytest
import requests
from airbyte_cdk.models import FailureType, SyncMode
from airbyte_cdk.sources.declarative.requesters.error_handlers.default_error_handler import DefaultErrorHandler
from airbyte_cdk.sources.declarative.requesters.error_handlers.http_response_filter import HttpResponseFilter
from airbyte_cdk.sources.streams.http.error_handlers.response_models import ResponseAction
from airbyte_cdk.test.mock_http import HttpMocker, HttpRequest, HttpResponse

from personio_mocks import (
    BASE,
    CATEGORIES,
    failure_type_of,
    json_response,
    mock_auth,
    mock_employee_attributes,
    read_stream,
    record_data,
    v1_employee,
    v1_list,
)
from source_personio.error_handling import NOT_JSON, SUCCESS_FALSE, SuccessFastPathErrorHandler
from source_personio.extractors import parse_json_once




# ---------------------------------------------------------------- tokens


# ---------------------------------------------------------------- resource errors


def test_429_without_retry_after_is_retried_with_exponential_backoff(config, sleeps):
    with HttpMocker() as http:
        mock_auth(http)
        http.get(
            CATEGORIES,
            [HttpResponse("{}", 429), HttpResponse("{}", 429), json_response(v1_list([{"id": 1, "type": "DocumentCategory", "attributes": {"name": "x"}}]))],
        )
        output = read_stream("document_categories", config)
        http.assert_number_of_calls(CATEGORIES, 3)
    assert [r["id"] for r in record_data(output)] == [1]
    # retry_backoff_seconds=1: 1*2^1 and 1*2^2 seconds, plus the CDK's extra second
    assert sleeps == [3, 5]


def test_5xx_is_retried_a_bounded_number_of_times_then_fails_clearly(config, sleeps):
    with HttpMocker() as http:
        mock_auth(http)
        http.get(CATEGORIES, HttpResponse(json.dumps({"success": False, "error": {"code": 500, "message": "boom"}}), 503))
        output = read_stream("document_categories", config, expecting_exception=True)
        http.assert_number_of_calls(CATEGORIES, 6)  # 1 try + 5 retries
    assert output.records == []
    assert output.errors
    assert len(sleeps) == 5
    assert failure_type_of(output, "server error (HTTP 5xx) on stream document_categories") == FailureType.transient_error


def _warnings(output):
    return [m.log.message for m in output.logs if m.log.level.value == "WARN"]


def test_v1_403_skips_the_stream_with_a_warning_naming_the_missing_permission(config):
    with HttpMocker() as http:
        mock_auth(http)
        http.get(
            CATEGORIES,
            json_response({"success": False, "error": {"code": 403, "message": "Provided authorization is not valid"}}, 403),
        )
        output = read_stream("document_categories", config, expecting_exception=True)
    assert output.records == []
    message = next(m for m in _warnings(output) if m.startswith("Skipped stream document_categories:"))
    assert "lacks access to document categories" in message
    assert "Provided authorization is not valid" in message and "API credentials" in message
    # it was the only selected stream: a sync of nothing is a config error, not a success
    assert [e.trace.error.failure_type for e in output.errors] == [FailureType.config_error]
    assert "may not read any of the selected streams" in output.errors[0].trace.error.message


def test_v2_403_skips_the_stream_with_a_warning_naming_the_scope(config):
    with HttpMocker() as http:
        mock_auth(http, v1=False, v2=True)
        http.get(
            HttpRequest(f"{BASE}/v2/projects", query_params={"limit": "100"}),
            json_response({"errors": [{"title": "Forbidden", "detail": "Missing scope personio:projects:read"}]}, 403),
        )
        output = read_stream("projects", config, expecting_exception=True)
    assert any(m.startswith("Skipped stream projects:") and "Missing scope personio:projects:read" in m for m in _warnings(output))
    assert [e.trace.error.failure_type for e in output.errors] == [FailureType.config_error]
    assert "Missing scope personio:projects:read" in output.errors[0].trace.error.message


def test_success_false_in_a_200_body_is_an_error_not_an_empty_page(config):
    with HttpMocker() as http:
        mock_auth(http)
        http.get(CATEGORIES, json_response({"success": False, "error": {"code": 0, "message": "Something went wrong"}}, 200))
        output = read_stream("document_categories", config, expecting_exception=True)
    assert output.records == []
    assert failure_type_of(output, "success=false for stream document_categories: Something went wrong") == FailureType.system_error


PARAMETERS = {"name": "absences", "permission": "absences (GET /v1/company/time-offs)"}


def _manifest_handler(extra_filters=()):
    def response_filter(**kwargs):
        return HttpResponseFilter(config={}, parameters=PARAMETERS, **kwargs)

    filters = [
        response_filter(http_codes={401}, action="REFRESH_TOKEN_THEN_RETRY", failure_type="config_error", error_message="401 {{ parameters.name }}"),
        response_filter(http_codes={403}, action="FAIL", failure_type="config_error", error_message="403 {{ parameters.name }}"),
        response_filter(http_codes={429}, action="RETRY", failure_type="transient_error"),
        response_filter(http_codes={500, 502, 503, 504}, action="RETRY", failure_type="transient_error"),
        response_filter(predicate=NOT_JSON, action="RETRY", failure_type="transient_error", error_message="not JSON {{ parameters.name }}"),
        response_filter(predicate=SUCCESS_FALSE, action="FAIL", failure_type="system_error", error_message="success=false {{ parameters.name }}"),
        *extra_filters,
    ]
    return DefaultErrorHandler(config={}, parameters=PARAMETERS, response_filters=filters, max_retries=5)


def _response(status, body):
    response = requests.Response()
    response.status_code = status
    response._content = body if isinstance(body, bytes) else body.encode()
    response.url = "https://api.personio.de/v1/company/time-offs?limit=200&offset=1"
    return parse_json_once(response)


BODIES = [
    '{"success": true, "data": [{"id": 1}]}',
    '{"_data": [], "_meta": {"links": {}}}',
    '{"success": false, "error": {"code": 0, "message": "nope"}}',
    '{"success": 0, "data": []}',
    '{"success": "false", "data": []}',
    "{}",
    "[]",
    '[{"id": 1}]',
    "0",
    '"text"',
    "null",
    '{"data": [{"id": 1}',  # cut off
    "<html>proxy error</html>",
    "",
]


@pytest.mark.parametrize("status", [200, 201, 204, 302, 401, 403, 404, 429, 500, 503])
@pytest.mark.parametrize("body", BODIES)
def test_every_response_gets_the_resolution_the_manifest_handler_gives(status, body):
    expected = _manifest_handler().interpret_response(_response(status, body))
    handler = SuccessFastPathErrorHandler(error_handler=_manifest_handler(), config={}, parameters={})
    actual = handler.interpret_response(_response(status, body))
    assert (actual.response_action, actual.failure_type, actual.error_message) == (
        expected.response_action,
        expected.failure_type,
        expected.error_message,
    )


def test_a_plain_successful_page_skips_the_predicates():
    handler = SuccessFastPathErrorHandler(error_handler=_manifest_handler(), config={}, parameters={})
    for response_filter in handler.error_handler.response_filters:
        response_filter.predicate = None  # would raise if the predicates were rendered
    assert handler.interpret_response(_response(200, '{"data": [{"id": 1}]}')).response_action == ResponseAction.SUCCESS


def test_exceptions_and_unknown_filters_go_to_the_manifest_handler():
    unknown = HttpResponseFilter(config={}, parameters={}, predicate="{{ response.get('data') == [] }}", action="RETRY")
    handler = SuccessFastPathErrorHandler(error_handler=_manifest_handler([unknown]), config={}, parameters={})
    assert handler.interpret_response(_response(200, '{"data": []}')).response_action == ResponseAction.RETRY
    handler = SuccessFastPathErrorHandler(error_handler=_manifest_handler(), config={}, parameters={})
    resolution = handler.interpret_response(requests.exceptions.ConnectionError("reset"))
    assert resolution.response_action == _manifest_handler().interpret_response(requests.exceptions.ConnectionError("reset")).response_action


def test_retries_and_backoff_are_the_manifest_handler_s():
    inner = _manifest_handler()
    handler = SuccessFastPathErrorHandler(error_handler=inner, config={}, parameters={})
    assert handler.max_retries == 5 and handler.max_time == inner.max_time
    assert handler.backoff_strategies is inner.backoff_strategies


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
