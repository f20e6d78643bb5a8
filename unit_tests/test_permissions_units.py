"""permissions.py: Personio's answers for a module not booked or a right missing are told apart from other errors."""

from __future__ import annotations

import logging

import requests

from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.streams.http.error_handlers.response_models import ErrorResolution, ResponseAction

from source_personio.permissions import UnreadableResourceErrorHandler, classify, is_unreadable, missing_right_401

NOT_BOOKED = {"errors": [{"title": "Not Found", "detail": "The endpoint with /v2/recruiting/jobs was not found.",
                          "type": "https://developer.personio.de/reference/errors#apinot_found"}]}
VANISHED = {"errors": [{"title": "Resource not found", "detail": "The requested application was not found",
                        "type": "https://developer.personio.de/reference/errors#common.resource_not_found"}]}


def response(status, body, url):
    import json

    r = requests.Response()
    r.status_code = status
    r._content = json.dumps(body).encode()
    r.url = url
    r.headers["Content-Type"] = "application/json"
    return r


class Inner:
    max_retries = 5
    max_time = None

    def __init__(self):
        self.asked = []

    def interpret_response(self, response_or_exception=None):
        self.asked.append(response_or_exception)
        return ErrorResolution(ResponseAction.SUCCESS, None, None)


def test_recruiting_404_apinot_found_is_a_module_not_booked():
    found = classify(404, NOT_BOOKED, "/v2/recruiting/jobs")
    assert found.kind == "module" and "no Recruiting module" in found.explain()
    assert "HTTP 404 on GET /v2/recruiting/jobs" in found.explain()


def test_a_vanished_records_404_is_not_a_missing_module():
    assert classify(404, VANISHED, "/v2/recruiting/applications/a-1/stage-transitions") is None


def test_legal_entities_412_is_a_feature_not_available():
    found = classify(412, {"errors": [{"detail": "not available"}]}, "/v2/legal-entities")
    assert found.kind == "module" and "legal entities feature is not available" in found.what


def test_reports_400_unauthorized_token_is_a_missing_right_but_another_400_is_not():
    assert classify(400, {"errors": [{"detail": "Unauthorized token"}]}, "/v2/reports").kind == "right"
    assert classify(400, {"errors": [{"detail": "Invalid request content"}]}, "/v2/attendance-periods") is None


def test_persons_401_with_a_valid_token_names_the_persons_right_and_the_setting():
    text = missing_right_401("/v2/persons").explain()
    assert "lacks the Persons right" in text and "Settings > Integrations > API credentials" in text


def test_error_handler_fails_a_not_booked_module_with_a_config_error_naming_the_stream():
    inner = Inner()
    handler = UnreadableResourceErrorHandler(error_handler=inner, config={}, parameters={"name": "recruiting_jobs"})
    resolution = handler.interpret_response(response(404, NOT_BOOKED, "https://api.personio.de/v2/recruiting/jobs?limit=200"))
    assert resolution.response_action == ResponseAction.FAIL
    assert resolution.failure_type == FailureType.config_error
    assert is_unreadable(resolution.error_message) and "recruiting_jobs" in resolution.error_message
    assert not inner.asked


def test_error_handler_leaves_a_vanished_parent_404_to_the_wrapped_handler():
    inner = Inner()
    handler = UnreadableResourceErrorHandler(error_handler=inner, config={}, parameters={"name": "x"})
    handler.interpret_response(response(404, VANISHED, "https://api.personio.de/v2/recruiting/applications/1/stage-transitions"))
    assert len(inner.asked) == 1


def test_archived_custom_report_400_is_ignored_with_one_warning(caplog):
    inner = Inner()
    handler = UnreadableResourceErrorHandler(error_handler=inner, config={}, parameters={"name": "custom_reports"})
    body = [{"status": 400, "errors": [{"title": "Bad Request", "details": "The report is archived"}]}]
    url = "https://api.personio.de/v1/company/custom-reports/reports/r-9?page=1&limit=1000"
    with caplog.at_level(logging.WARNING, logger="airbyte"):
        for _ in range(2):
            assert handler.interpret_response(response(400, body, url)).response_action == ResponseAction.IGNORE
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "r-9" in warnings[0] and "custom_reports" in warnings[0]
