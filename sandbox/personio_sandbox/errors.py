"""Personio's error envelopes: v1 ``{success, error}``, v2 problem+json ``errors[]`` (§5.2), the OAuth2
envelope of ``/v2/auth/token`` (§1.2) and the custom-reports array envelope (§3.12)."""
from __future__ import annotations

import datetime as _dt
import itertools


V1_JSON = "application/json"
PROBLEM = "application/problem+json"
_trace = itertools.count(1)


class ApiError(Exception):
    def __init__(self, status: int, body, content_type: str = V1_JSON):
        self.status, self.body, self.content_type = status, body, content_type


def now_z() -> str:
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def trace_id() -> str:
    return "sbx-%012x" % next(_trace)


def v1_error(status: int, message: str, code: int | None = None) -> ApiError:
    return ApiError(status, {"success": False, "error": {"code": status if code is None else code, "message": message}})


ERROR_TITLES = {400: ("Bad request", "common.bad_request"), 401: ("Unauthorized", "common.unauthorized"),
                403: ("Forbidden", "common.forbidden"), 404: ("Resource not found", "common.resource_not_found"),
                412: ("Precondition failed", "common.precondition_failed"),
                429: ("Too many requests", "common.too_many_requests"),
                500: ("Internal server error", "common.internal_server_error"),
                502: ("Bad gateway", "common.bad_gateway"), 503: ("Service unavailable", "common.service_unavailable"),
                504: ("Gateway timeout", "common.gateway_timeout")}


def problem_body(status: int, detail: str) -> dict:
    title, code = ERROR_TITLES.get(status, ("Error", "common.error"))
    return {"personio_trace_id": trace_id(), "timestamp": now_z(),
            "errors": [{"title": title, "detail": detail,
                        "type": "https://developer.personio.de/reference/errors#" + code, "_meta": {}}]}


def v2_error(status: int, detail: str) -> ApiError:
    return ApiError(status, problem_body(status, detail), PROBLEM)


def oauth_error(error: str, description: str, status: int = 400) -> ApiError:
    return ApiError(status, {"error": error, "error_description": description,
                             "error_uri": "https://developer.personio.de/reference/errors#credentials." + error,
                             "timestamp": now_z(), "trace_id": trace_id(), "meta": {}}, PROBLEM)


def reports_error(status: int, title: str, details: str, field_: str = "ID") -> ApiError:
    return ApiError(status, [{"status": status, "trace_id": trace_id(), "timestamp": now_z(),
                              "errors": [{"title": title, "details": details, "type": "custom_reports",
                                          "_meta": [{"field": field_, "description": details}]}]}])
