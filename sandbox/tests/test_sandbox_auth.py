"""Authentication, tokens, scopes and attribute whitelists as the reference documents them."""
from __future__ import annotations

import time

import requests

from personio_sandbox.testing import Sandbox
from sandbox_client import Client


def test_v1_auth_accepts_json_and_form_bodies_and_returns_papi_token(sb):
    creds = {"client_id": sb.client_id, "client_secret": sb.client_secret}
    for kwargs in ({"json": creds}, {"data": creds}):
        r = requests.post(sb.url + "/v1/auth", **kwargs)
        assert r.status_code == 200
        data = r.json()["data"]
        assert r.json()["success"] is True
        assert data["token"].startswith("papi-") and data["expires_in"] == 86400
        assert set(data["scope"].split()) >= {"employees:read", "absences:read"}


def test_v1_auth_with_credentials_in_query_string_is_forbidden(sb):
    r = requests.post(sb.url + "/v1/auth", params={"client_id": sb.client_id, "client_secret": sb.client_secret})
    assert r.status_code == 403
    assert r.json()["success"] is False and r.json()["error"]["message"]


def test_v1_auth_with_wrong_secret_gets_no_token(sb):
    r = requests.post(sb.url + "/v1/auth", json={"client_id": sb.client_id, "client_secret": "nope"})
    assert r.status_code in (401, 403)
    assert r.json()["success"] is False and "token" not in r.text


def test_v1_token_is_stable_and_echoed_in_response_header(client):
    tok = client.v1_token()
    r1 = client.get("/v1/company/employees", {"limit": 1})
    r2 = client.get("/v1/company/employees", {"limit": 1, "offset": 1})
    assert r1.status_code == r2.status_code == 200  # reusable: no one-request rotation
    assert r1.headers["Authorization"] == "Bearer " + tok


def test_v1_missing_and_wrong_tokens_get_v1_error_envelope(sb):
    r = requests.get(sb.url + "/v1/company/employees")
    assert r.status_code == 401
    assert r.json() == {"success": False, "error": {"code": 401, "message": "Authorization is not provided"}}
    r = requests.get(sb.url + "/v1/company/employees", headers={"Authorization": "Bearer papi-forged"})
    assert r.status_code == 403
    assert r.json()["error"]["message"] == "Provided authorization is not valid"


def test_v2_token_needs_form_encoding_and_client_credentials_grant(sb):
    body = {"grant_type": "client_credentials", "client_id": sb.client_id, "client_secret": sb.client_secret}
    r = requests.post(sb.url + "/v2/auth/token", json=body)
    assert r.status_code == 400 and r.json()["error"] == "invalid_request"
    r = requests.post(sb.url + "/v2/auth/token", data=dict(body, grant_type="password"))
    assert r.status_code == 400 and r.json()["error"] == "unsupported_grant_type"
    r = requests.post(sb.url + "/v2/auth/token", data=dict(body, client_secret="wrong"))
    assert r.status_code == 400
    err = r.json()
    assert err["error"] == "invalid_client" and {"error_description", "trace_id", "timestamp"} <= set(err)
    r = requests.post(sb.url + "/v2/auth/token", data=body)
    tok = r.json()
    assert tok["token_type"] == "Bearer" and tok["expires_in"] == 86400 and tok["access_token"].startswith("papi-")
    assert "personio:recruiting:read" in tok["scope"].split()


def test_v1_and_v2_tokens_are_separate(client):
    assert client.get("/v2/persons", token=client.v1_token()).status_code == 401
    assert client.get("/v1/company/employees", token=client.v2_token()).status_code == 403


def test_v2_missing_token_gets_problem_json(sb):
    r = requests.get(sb.url + "/v2/persons")
    assert r.status_code == 401
    assert r.headers["Content-Type"].startswith("application/problem+json")
    body = r.json()
    assert {"personio_trace_id", "timestamp", "errors"} <= set(body)
    assert {"title", "detail", "type", "_meta"} <= set(body["errors"][0])


def test_revoked_v2_token_stops_working(sb):
    c = Client(sb)
    tok = c.v2_token()
    assert c.get("/v2/persons").status_code == 200
    assert requests.post(sb.url + "/v2/auth/revoke", data={"token": tok}).status_code == 200
    assert c.get("/v2/persons").status_code == 401


def test_tokens_expire_after_configured_ttl():
    with Sandbox(employees=3, extra_args=["--token-ttl", "1"]) as s:
        c = Client(s)
        assert c.get("/v1/company/employees").status_code == 200
        assert c.get("/v2/persons").status_code == 200
        time.sleep(1.3)
        r1 = c.get("/v1/company/employees")
        r2 = c.get("/v2/persons")
        assert r1.status_code == 401 and r1.json()["success"] is False
        assert r2.status_code == 401 and r2.json()["errors"]


def test_credential_without_recruiting_scope_gets_403_naming_the_scope(sb):
    sb.add_credential({"client_id": "no-recruiting", "client_secret": "s3cret",
                       "scopes": ["personio:persons:read", "personio:employments:read"]})
    c = Client(sb, "no-recruiting", "s3cret")
    assert c.get("/v2/persons").status_code == 200
    r = c.get("/v2/recruiting/candidates")
    assert r.status_code == 403
    assert "personio:recruiting:read" in r.json()["errors"][0]["detail"]
    # v1: no absences scope -> 403 in the v1 envelope; the scope list says so
    auth = requests.post(sb.url + "/v1/auth", json={"client_id": "no-recruiting", "client_secret": "s3cret"}).json()
    assert auth["data"]["scope"] == "employees:read"
    r = c.get("/v1/company/time-offs")
    assert r.status_code == 403 and r.json()["success"] is False


def test_requesting_a_scope_the_client_lacks_is_invalid_scope(sb):
    sb.add_credential({"client_id": "persons-only", "client_secret": "x", "scopes": ["personio:persons:read"]})
    r = requests.post(sb.url + "/v2/auth/token", data={"grant_type": "client_credentials", "client_id": "persons-only",
                                                        "client_secret": "x", "scope": "personio:recruiting:read"})
    assert r.status_code == 400 and r.json()["error"] == "invalid_scope"


def test_attribute_whitelist_silently_omits_other_attributes(sb):
    sb.add_credential({"client_id": "names-only", "client_secret": "x", "attributes": ["first_name", "last_name"]})
    c = Client(sb, "names-only", "x")
    body = c.get("/v1/company/employees", {"limit": 3}).json()
    assert body["success"] is True and len(body["data"]) == 3
    for e in body["data"]:
        assert set(e["attributes"]) == {"id", "first_name", "last_name"}
    keys = {a["key"] for a in c.get("/v1/company/employees/attributes").json()["data"]}
    assert keys == {"id", "first_name", "last_name"}
