"""Shared helpers for unit tests: a config, token-endpoint mocks and a one-stream read.

Responses are small inline dicts in Personio's documented envelopes (see
/work/shared/personio-api/README.md); each test states only the fields it relies on.
"""

from __future__ import annotations

import json
import time
from typing import Any, Dict, List, Mapping, Optional
from urllib.parse import urlencode

import pytest

from airbyte_cdk.models import SyncMode
from airbyte_cdk.test.catalog_builder import CatalogBuilder
from airbyte_cdk.test.entrypoint_wrapper import EntrypointOutput, read
from airbyte_cdk.test.mock_http import HttpMocker, HttpRequest, HttpResponse
from airbyte_cdk.test.state_builder import StateBuilder

from source_personio.auth import clear_token_cache
from source_personio.source import SourcePersonio

BASE = "https://api.personio.de"
CLIENT_ID = "unit-client-id"
CLIENT_SECRET = "unit-client-secret-DO-NOT-LOG"


@pytest.fixture(autouse=True)
def _fresh_token_cache():
    clear_token_cache()
    yield
    clear_token_cache()


@pytest.fixture
def sleeps(monkeypatch) -> List[float]:
    """Record back-off waits instead of sleeping (retries become instant and observable)."""
    recorded: List[float] = []
    real_sleep = time.sleep

    def fake_sleep(seconds: float) -> None:
        if seconds >= 0.5:
            recorded.append(seconds)
        else:
            real_sleep(seconds)

    monkeypatch.setattr(time, "sleep", fake_sleep)
    return recorded


@pytest.fixture
def config() -> Dict[str, Any]:
    return {
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "start_date": "2024-01-01",
        "retry_backoff_seconds": 1,
        # no per-report streams: a mocked test answers only the requests of its own stream
        "custom_report_streams": False,
    }


def v1_auth_request() -> HttpRequest:
    return HttpRequest(f"{BASE}/v1/auth", body={"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET})


def v2_auth_request() -> HttpRequest:
    body = urlencode({"grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET})
    return HttpRequest(f"{BASE}/v2/auth/token", body=body)


def v1_token_response(token: str = "papi-v1-token", expires_in: int = 86400) -> HttpResponse:
    return HttpResponse(json.dumps({"success": True, "data": {"token": token, "expires_in": expires_in}}), 200)


def v2_token_response(token: str = "papi-v2-token", expires_in: int = 86400) -> HttpResponse:
    return HttpResponse(
        json.dumps({"access_token": token, "token_type": "Bearer", "expires_in": expires_in, "scope": "personio:attendances:read"}),
        200,
    )


def mock_auth(http_mocker: HttpMocker, v1: bool = True, v2: bool = False) -> None:
    if v1:
        http_mocker.post(v1_auth_request(), v1_token_response())
    if v2:
        http_mocker.post(v2_auth_request(), v2_token_response())


def json_response(body: Any, status: int = 200) -> HttpResponse:
    return HttpResponse(json.dumps(body), status)


def attr(key: str, value: Any, type_: str = "standard") -> Dict[str, Any]:
    return {"label": key.replace("_", " ").title(), "value": value, "type": type_, "universal_id": key}


def v1_employee(employee_id: int, last_modified_at: str = "2024-05-01T10:00:00+02:00", **attrs: Any) -> Dict[str, Any]:
    attributes = {"id": attr("id", employee_id, "integer"), "last_modified_at": attr("last_modified_at", last_modified_at, "date")}
    attributes.update({k: attr(k, v) for k, v in attrs.items()})
    return {"type": "Employee", "attributes": attributes}


def v1_list(data: List[Any], **extra: Any) -> Dict[str, Any]:
    return {"success": True, "data": data, **extra}


def read_stream(
    stream: str,
    config: Mapping[str, Any],
    sync_mode: SyncMode = SyncMode.full_refresh,
    state: Optional[Dict[str, Any]] = None,
    expecting_exception: bool = False,
) -> EntrypointOutput:
    catalog = CatalogBuilder().with_stream(stream, sync_mode).build()
    state_messages = StateBuilder().with_stream_state(stream, state).build() if state is not None else None
    source = SourcePersonio(catalog=catalog, config=config, state=state_messages)
    return read(source, config, catalog, state_messages, expecting_exception=expecting_exception)


def record_data(output: EntrypointOutput) -> List[Dict[str, Any]]:
    return [r.record.data for r in output.records]


def mock_employee_attributes(http_mocker: HttpMocker, attributes=(("id", "integer"), ("last_modified_at", "date"))) -> None:
    """The attribute list the employees schema is discovered from (GET /v1/company/employees/attributes)."""
    data = [{"key": key, "label": key.title(), "type": type_, "universal_id": None, "options": []} for key, type_ in attributes]
    http_mocker.get(HttpRequest(f"{BASE}/v1/company/employees/attributes"), json_response(v1_list(data)))


# ---------------------------------------------------------------- requests and error traces shared by the tests

EMPLOYEES = HttpRequest(f"{BASE}/v1/company/employees", query_params={"limit": "100", "offset": "0"})
CATEGORIES = HttpRequest(f"{BASE}/v1/company/document-categories")


def error_messages(output: EntrypointOutput) -> List[str]:
    return [e.trace.error.message for e in output.errors]


def failure_type_of(output: EntrypointOutput, fragment: str) -> Any:
    """The failure type of the (first) error trace whose message contains fragment.

    The CDK always ends a failed concurrent read with a summary trace typed config_error, so
    tests look at the trace the connector itself raised."""
    for e in output.errors:
        if fragment in e.trace.error.message:
            return e.trace.error.failure_type
    raise AssertionError(f"no error trace mentions {fragment!r}: {error_messages(output)}")
