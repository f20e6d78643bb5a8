"""Token endpoints (``POST /v1/auth``, ``POST /v2/auth/token``, ``/v2/auth/revoke``, §1) and bearer-token checks."""
from __future__ import annotations

import dataclasses
import secrets
import time

from aiohttp import web

from .auth import V2_SCOPES
from .errors import oauth_error, v1_error, v2_error
from .responses import error_response, json_response, read_form_or_json


def check_token(sb, tok: str | None, kind: str):
    if not tok:
        if kind == "v2":
            return None, v2_error(401, "Authorization is not provided")
        return None, v1_error(401, "Authorization is not provided")
    entry = sb.tokens.get(tok)
    if entry is None or entry[1] not in (kind, "expired"):
        if kind == "v2":
            return None, v2_error(401, "The provided access token is not valid")
        return None, v1_error(403, "Provided authorization is not valid")
    cred, k, exp = entry
    if k == "expired" or time.time() >= exp:
        sb.tokens[tok] = (None, "expired", 0)  # stays expired (401) until the client re-authenticates
        if kind == "v2":
            return None, v2_error(401, "The provided access token has expired")
        return None, v1_error(401, "The provided token has expired")
    return cred, None


async def token_endpoint(request: web.Request, sb, template: str) -> web.Response:
    if template == "/v1/auth":
        if request.method != "POST":
            return error_response(v1_error(405, "Method not allowed"))
        qs = request.query
        if "client_id" in qs or "client_secret" in qs:
            return error_response(v1_error(403, "Credentials must be sent in the request body, not in the query string"))
        body, how = await read_form_or_json(request)
        cid, secret = body.get("client_id"), body.get("client_secret")
        if not cid or not secret:
            return error_response(v1_error(400, "client_id and client_secret are required"))
        cred = sb.creds.get(str(cid))
        if cred is None or not secrets.compare_digest(cred.client_secret, str(secret)):
            return error_response(v1_error(403, "Wrong credentials", 0))
        tok = sb.issue_token(cred, "v1")
        return json_response(200, {"success": True, "data": {"token": tok, "expires_in": sb.token_ttl,
                                                      "scope": " ".join(cred.v1_scopes)}},
                     headers={"Authorization": "Bearer " + tok})
    if request.method != "POST":
        return error_response(oauth_error("invalid_request", "Method not allowed", 405))
    if request.content_type != "application/x-www-form-urlencoded":
        return error_response(oauth_error("invalid_request", "Content-Type must be application/x-www-form-urlencoded"))
    body, _ = await read_form_or_json(request)
    if template == "/v2/auth/revoke":
        tok = body.get("token")
        if not tok:
            return error_response(oauth_error("invalid_request", "Missing form field 'token'"))
        sb.tokens.pop(tok, None)
        return web.Response(status=200)
    if body.get("grant_type") != "client_credentials":
        return error_response(oauth_error("unsupported_grant_type", "Only grant_type=client_credentials is supported"))
    cid, secret = body.get("client_id"), body.get("client_secret")
    if not cid or not secret:
        return error_response(oauth_error("invalid_request", "client_id and client_secret are required"))
    cred = sb.creds.get(cid)
    if cred is None or not secrets.compare_digest(cred.client_secret, secret):
        return error_response(oauth_error("invalid_client", "The credentials were not correct. Make sure you are "
                                              "providing the right client_id and client_secret."))
    scopes = cred.scopes
    if body.get("scope"):
        req = set(body["scope"].split())
        if not req <= set(cred.scopes):
            return error_response(oauth_error("invalid_scope", "Requested scope is not available to this client: %s"
                                                 % " ".join(sorted(req - set(cred.scopes)))))
        scopes = frozenset(req)
    tcred = dataclasses.replace(cred, scopes=frozenset(scopes))
    tok = sb.issue_token(tcred, "v2")
    return json_response(200, {"access_token": tok, "token_type": "Bearer", "expires_in": sb.token_ttl,
                       "scope": " ".join(s for s in V2_SCOPES if s in scopes)})
