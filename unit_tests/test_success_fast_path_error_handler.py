"""SuccessFastPathErrorHandler: the same resolution as the manifest's DefaultErrorHandler, for every kind of response."""

import pytest
import requests

from airbyte_cdk.sources.declarative.requesters.error_handlers.default_error_handler import DefaultErrorHandler
from airbyte_cdk.sources.declarative.requesters.error_handlers.http_response_filter import HttpResponseFilter
from airbyte_cdk.sources.streams.http.error_handlers.response_models import ResponseAction
from source_personio.extractors import parse_json_once
from source_personio.error_handling import NOT_JSON, SUCCESS_FALSE, SuccessFastPathErrorHandler

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
