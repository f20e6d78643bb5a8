"""Authentication, token reuse, re-auth on 401, and every error class a user can meet."""

from __future__ import annotations

import json

from airbyte_cdk.models import FailureType, SyncMode
from airbyte_cdk.test.catalog_builder import CatalogBuilder
from airbyte_cdk.test.entrypoint_wrapper import read
from airbyte_cdk.test.mock_http import HttpMocker, HttpRequest, HttpResponse

from personio_mocks import (
    BASE,
    CLIENT_SECRET,
    json_response,
    mock_auth,
    mock_employee_attributes,
    read_stream,
    record_data,
    v1_auth_request,
    v1_employee,
    v1_list,
    v1_token_response,
    v2_auth_request,
    v2_token_response,
)
from source_personio.source import SourcePersonio

EMPLOYEES = HttpRequest(f"{BASE}/v1/company/employees", query_params={"limit": "100", "offset": "0"})
CATEGORIES = HttpRequest(f"{BASE}/v1/company/document-categories")


def error_messages(output) -> list[str]:
    return [e.trace.error.message for e in output.errors]


def failure_type_of(output, fragment: str):
    """The failure type of the (first) error trace whose message contains fragment.

    The CDK always ends a failed concurrent read with a summary trace typed config_error, so
    tests look at the trace the connector itself raised."""
    for e in output.errors:
        if fragment in e.trace.error.message:
            return e.trace.error.failure_type
    raise AssertionError(f"no error trace mentions {fragment!r}: {error_messages(output)}")


# ---------------------------------------------------------------- tokens


def test_one_v1_token_is_reused_across_streams_and_pages(config):
    catalog = (
        CatalogBuilder()
        .with_stream("employees", SyncMode.full_refresh)
        .with_stream("document_categories", SyncMode.full_refresh)
        .with_stream("custom_reports_list", SyncMode.full_refresh)
        .build()
    )
    auth = v1_auth_request()
    with HttpMocker() as http:
        http.post(auth, v1_token_response("papi-shared"))
        mock_employee_attributes(http)
        http.get(EMPLOYEES, json_response(v1_list([v1_employee(i) for i in range(100)])))
        # pages overlap by one record: offset 99 is the last employee of the first page (ends the list)
        http.get(HttpRequest(f"{BASE}/v1/company/employees", query_params={"limit": "100", "offset": "99"}), json_response(v1_list([v1_employee(99)])))
        http.get(CATEGORIES, json_response(v1_list([])))
        http.get(HttpRequest(f"{BASE}/v1/company/custom-reports/reports"), json_response(v1_list([])))
        output = read(SourcePersonio(catalog=catalog, config=config, state=None), config, catalog)
        http.assert_number_of_calls(auth, 1)
    assert not output.errors
    assert len(output.records) == 100


def test_v1_requests_carry_the_bearer_token_and_personio_headers(config):
    config = {**config, "app_id": "ACME_DWH", "partner_id": "ACME"}
    with HttpMocker() as http:
        http.post(v1_auth_request(), v1_token_response("papi-abc"))
        http.get(
            HttpRequest(
                f"{BASE}/v1/company/document-categories",
                headers={"Authorization": "Bearer papi-abc", "X-Personio-App-ID": "ACME_DWH", "X-Personio-Partner-ID": "ACME"},
            ),
            json_response(v1_list([{"id": 1, "type": "DocumentCategory", "attributes": {"name": "x"}}])),
        )
        output = read_stream("document_categories", config)
    assert len(output.records) == 1


def test_v2_token_is_minted_with_form_encoded_client_credentials(config):
    with HttpMocker() as http:
        http.post(v2_auth_request(), v2_token_response("papi-v2"))
        http.get(
            HttpRequest(f"{BASE}/v2/projects", query_params={"limit": "100"}, headers={"Authorization": "Bearer papi-v2"}),
            json_response({"_data": [{"id": "p1"}], "_meta": {"links": {}}}),
        )
        output = read_stream("projects", config)
    assert [r["id"] for r in record_data(output)] == ["p1"]


def test_a_401_mints_a_new_token_once_and_retries(config, sleeps):
    auth = v1_auth_request()
    with HttpMocker() as http:
        http.post(auth, [v1_token_response("papi-old"), v1_token_response("papi-new")])
        http.get(
            HttpRequest(f"{BASE}/v1/company/document-categories", headers={"Authorization": "Bearer papi-old"}),
            json_response({"success": False, "error": {"code": 401, "message": "token expired"}}, 401),
        )
        http.get(
            HttpRequest(f"{BASE}/v1/company/document-categories", headers={"Authorization": "Bearer papi-new"}),
            json_response(v1_list([{"id": 1, "type": "DocumentCategory", "attributes": {"name": "x"}}])),
        )
        output = read_stream("document_categories", config)
        http.assert_number_of_calls(auth, 2)
    assert not output.errors
    assert [r["id"] for r in record_data(output)] == [1]


def test_wrong_credentials_are_a_config_error_that_never_shows_the_secret(config):
    with HttpMocker() as http:
        http.post(
            v1_auth_request(),
            json_response({"success": False, "error": {"code": 0, "message": "Wrong credentials"}}, 401),
        )
        output = read_stream("document_categories", config, expecting_exception=True)
    assert failure_type_of(output, "rejected the client_id/client_secret (HTTP 401") == FailureType.config_error
    printed = "\n".join(str(m) for m in output.logs + output.errors)
    assert CLIENT_SECRET not in printed


def test_auth_429_is_retried_after_a_wait(config, sleeps):
    auth = v1_auth_request()
    with HttpMocker() as http:
        http.post(auth, [HttpResponse("{}", 429), v1_token_response("papi-x")])
        http.get(CATEGORIES, json_response(v1_list([{"id": 3, "type": "DocumentCategory", "attributes": {"name": "x"}}])))
        output = read_stream("document_categories", config)
        http.assert_number_of_calls(auth, 2)
    assert [r["id"] for r in record_data(output)] == [3]
    assert sleeps == [1.0]


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
