"""Credentials only ever go to the configured host (issue 7): v2 next links and redirects."""

from __future__ import annotations

import json
import logging

import pytest
import requests_mock as rm

from airbyte_cdk.models import FailureType

from personio_mocks import BASE, CLIENT_SECRET, read_stream
from source_personio.auth import PersonioTokenAuthenticator
from source_personio.source import SourcePersonio

EVIL = "https://evil.example"


def v2_token(m):
    m.post(f"{BASE}/v2/auth/token", json={"access_token": "papi-unit-v2-token", "token_type": "Bearer", "expires_in": 86400})


def v1_token(m):
    m.post(f"{BASE}/v1/auth", json={"success": True, "data": {"token": "papi-unit-v1-token", "expires_in": 86400}})


def attendance(i):
    return {"id": i, "person": {"id": "1"}, "updated_at": "2024-05-01T10:00:00Z", "start": "2024-05-01T08:00:00", "type": "WORK"}


def evil_requests(m):
    return [r for r in m.request_history if r.hostname == "evil.example"]


def test_a_v2_next_link_to_another_host_is_followed_on_the_configured_host_only(config):
    # a cursor-paged v2 list (attendances are read in updated_at windows: source_personio/time_windows.py)
    def page(request, context):
        if request.qs.get("cursor") == ["c2"]:
            return {"_data": [attendance("a2")], "_meta": {"links": {}}}
        return {"_data": [attendance("a1")], "_meta": {"links": {"next": {"href": f"{EVIL}/v2/projects?cursor=c2"}}}}

    with rm.Mocker() as m:
        v2_token(m)
        m.get(f"{BASE}/v2/projects", json=page)
        m.get(rm.ANY, status_code=200, json={"_data": [attendance("stolen")], "_meta": {"links": {}}}, additional_matcher=lambda r: r.hostname == "evil.example")
        output = read_stream("projects", config)
    assert not evil_requests(m), "a request went to the host named in the next link"
    assert sorted(r.record.data["id"] for r in output.records) == ["a1", "a2"]
    cursor_requests = [r for r in m.request_history if r.qs.get("cursor") == ["c2"]]
    assert cursor_requests and all(r.hostname == "api.personio.de" for r in cursor_requests)


def test_a_redirect_to_another_host_never_carries_the_token(config):
    with rm.Mocker() as m:
        v1_token(m)
        m.get(f"{BASE}/v1/company/document-categories", status_code=302, headers={"Location": f"{EVIL}/collect"})
        m.get(f"{EVIL}/collect", json={"success": True, "data": []})
        output = read_stream("document_categories", config, expecting_exception=True)
    offered = [r for r in m.request_history if r.hostname == "api.personio.de" and r.path == "/v1/company/document-categories"]
    assert offered, "the redirect was never served: this test would pass without testing anything"
    assert "Authorization" in offered[0].headers  # the token went to the configured host only
    assert [r.record.data for r in output.records] == []  # nothing from the redirect target was read as a record
    for request in evil_requests(m):
        assert "Authorization" not in request.headers, "the bearer token followed the redirect"
        assert "papi-" not in json.dumps(dict(request.headers))
    assert CLIENT_SECRET not in "".join(json.dumps(dict(r.headers)) + (r.text or "") for r in evil_requests(m))


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_the_token_endpoint_never_follows_a_redirect_with_the_secret(config, status):
    with rm.Mocker() as m:
        m.post(f"{BASE}/v1/auth", status_code=status, headers={"Location": f"{EVIL}/v1/auth"})
        m.post(f"{EVIL}/v1/auth", json={"success": True, "data": {"token": "papi-evil", "expires_in": 86400}})
        authenticator = PersonioTokenAuthenticator(config=config, parameters={}, api_version="v1", max_attempts=1)
        with pytest.raises(Exception) as error:
            authenticator.get_access_token()
        assert not evil_requests(m), "the client secret was re-sent to the redirect target"
    assert getattr(error.value, "failure_type", None) == FailureType.config_error
    assert "redirect" in error.value.message and "evil.example" in error.value.message
    assert CLIENT_SECRET not in error.value.message


def test_check_does_not_send_credentials_through_a_cross_host_redirect(config):
    with rm.Mocker() as m:
        v1_token(m)
        v2_token(m)
        m.get(rm.ANY, json={"success": True, "data": [], "_data": [], "_meta": {"links": {}}}, additional_matcher=lambda r: r.hostname == "api.personio.de")
        m.get(f"{BASE}/v1/company/employees", status_code=302, headers={"Location": f"{EVIL}/employees"})
        m.get(f"{EVIL}/employees", json={"success": True, "data": []})
        SourcePersonio(config=config).check(logging.getLogger("test"), config)
    offered = [r for r in m.request_history if r.hostname == "api.personio.de" and r.path == "/v1/company/employees"]
    assert offered, "check never asked the endpoint that redirects: this test would pass without testing anything"
    for request in evil_requests(m):
        assert "Authorization" not in request.headers
