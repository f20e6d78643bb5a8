"""access_check.py: check lists unreadable streams and why; a 401 is a missing right only when the token works elsewhere."""

from __future__ import annotations

import logging
import re

from airbyte_cdk.models import Status
from airbyte_cdk.test.mock_http import HttpMocker, HttpRequest

from personio_mocks import BASE, json_response, mock_auth, v1_list
from source_personio.access_check import CHECK_PROBES
from source_personio.source import SourcePersonio

LOGGER = logging.getLogger("test")
NOT_BOOKED = {"errors": [{"title": "Not Found", "detail": "The endpoint with /v2/recruiting/jobs was not found.",
                          "type": "https://developer.personio.de/reference/errors#apinot_found"}]}


def mock_probes(http, answers):
    """answers: path -> (status, body); every other probe answers an empty list."""
    for version, path, params, *_ in CHECK_PROBES:
        request = HttpRequest(f"{BASE}{path}", query_params={k: str(v) for k, v in params.items()} or None)
        if path in answers:
            status, body = answers[path]
            # a 401 is answered twice: the check re-mints the token once and asks again
            http.get(request, [json_response(body, status), json_response(body, status)] if status == 401 else json_response(body, status))
        elif version == "v1":
            http.get(request, json_response(v1_list([])))
        else:
            http.get(request, json_response({"_data": [], "_meta": {"links": {}}}))


def check(config, answers):
    with HttpMocker() as http:
        mock_auth(http, v1=True, v2=False)
        from personio_mocks import v2_auth_request, v2_token_response

        http.post(v2_auth_request(), [v2_token_response(), v2_token_response("papi-v2-token-2")])
        mock_probes(http, answers)
        return SourcePersonio(config=config).check(LOGGER, config)


def test_persons_401_while_other_v2_endpoints_accept_the_token_is_a_missing_persons_right(config):
    status = check(config, {"/v2/persons": (401, {"errors": [{"detail": "Unauthorized Request"}]})})
    assert status.status == Status.SUCCEEDED
    assert "persons, employments: the API credential lacks the Persons right" in status.message


def test_a_401_on_every_v2_endpoint_is_a_refused_token_and_fails_check(config):
    answers = {path: (401, {"errors": [{"detail": "Unauthorized"}]}) for version, path, *_ in CHECK_PROBES if version == "v2"}
    status = check(config, answers)
    assert status.status == Status.FAILED
    assert "rejected the v2 access token on every v2 endpoint" in status.message


def test_recruiting_not_booked_is_listed_by_stream_and_check_succeeds(config):
    status = check(config, {"/v2/recruiting/jobs": (404, NOT_BOOKED)})
    assert status.status == Status.SUCCEEDED
    listed = status.message.split("cannot read", 1)[1]
    assert "recruiting_jobs: your Personio plan has no Recruiting module" in listed
    assert "recruiting_candidates" not in listed


# ---------------------------------------------------------------- probes against the manifest


def _manifest_streams():
    """(stream name, its own endpoint, every endpoint it reads) for each stream of the manifest, endpoints as
    ``/v1/...`` / ``/v2/...`` taken from the resolved manifest's requesters (parents and schema loaders included)."""

    config = {"client_id": "id", "client_secret": "s", "base_url": "http://127.0.0.1:1", "start_date": "2024-01-01"}
    manifest = SourcePersonio(config=config).resolved_manifest

    def endpoint(requester):
        parameters = requester.get("$parameters") or {}

        def render(text):  # the requester's {{ parameters.X }} (api_version, path) filled in
            return re.sub(r"\{\{\s*parameters\.(\w+)\s*\}\}", lambda m: str(parameters[m.group(1)]), str(text))

        version = render(requester.get("url_base", "")).rstrip("/").rsplit("/", 1)[-1]
        return f"/{version}/{render(requester['path']).lstrip('/')}"

    def requesters(node):
        if isinstance(node, dict):
            if node.get("type") == "HttpRequester" and "path" in node:
                yield node
            for value in node.values():
                yield from requesters(value)
        elif isinstance(node, list):
            for value in node:
                yield from requesters(value)

    streams = []
    for stream in manifest["streams"]:
        own = endpoint(stream["retriever"]["requester"])
        streams.append((stream["name"], own, {endpoint(r) for r in requesters(stream)}))
    return streams


def test_every_stream_s_own_endpoint_is_probed_or_has_a_reason_in_the_table():
    from source_personio.access_check import NOT_PROBED, probed_streams

    probed = {(name, path) for _v, path, _p, streams, _w in CHECK_PROBES for name in probed_streams(streams)}
    unexplained = [
        (name, own) for name, own, _ in _manifest_streams() if (name, own) not in probed and name not in NOT_PROBED
    ]
    assert unexplained == []


def test_every_probe_asks_an_endpoint_the_streams_it_names_read():
    """A stream named by a probe of another endpoint is in NOT_PROBED, which says why that probe stands for it."""
    from source_personio.access_check import NOT_PROBED, probed_streams

    reads = {name: paths for name, _own, paths in _manifest_streams()}
    for _version, path, _params, streams, _what in CHECK_PROBES:
        names = probed_streams(streams)
        assert names, path
        for name in names:
            assert name in reads, f"probe {path} names {name}, which the manifest has no stream of"
            assert path in reads[name] or name in NOT_PROBED, f"probe {path} names {name}, which reads {sorted(reads[name])}"


def test_the_not_probed_table_names_only_streams_of_the_manifest():
    from source_personio.access_check import NOT_PROBED

    assert set(NOT_PROBED) <= {name for name, _own, _paths in _manifest_streams()}
