"""auth.py: one Personio token per API version, minted once, refreshed once on a 401, never shown."""

from __future__ import annotations


from airbyte_cdk.models import FailureType, SyncMode
from airbyte_cdk.test.catalog_builder import CatalogBuilder
from airbyte_cdk.test.entrypoint_wrapper import read
from airbyte_cdk.test.mock_http import HttpMocker, HttpRequest, HttpResponse

from personio_mocks import (
    BASE,
    CATEGORIES,
    CLIENT_SECRET,
    EMPLOYEES,
    failure_type_of,
    json_response,
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
from source_personio.auth import PersonioTokenAuthenticator
from source_personio.source import SourcePersonio




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


def test_workers_refreshing_the_same_stale_token_mint_only_once(config):
    """Several workers get a 401 for the same expired token and all ask for a refresh: one new token."""
    import threading
    from airbyte_cdk.test.mock_http import HttpMocker

    from personio_mocks import v1_auth_request, v1_token_response
    from source_personio.auth import _TOKEN_LOCKS

    auth = v1_auth_request()
    with HttpMocker() as http:
        http.post(auth, [v1_token_response("papi-1"), v1_token_response("papi-2"), v1_token_response("papi-3")])
        workers = [PersonioTokenAuthenticator(config=config, parameters={}, api_version="v1") for _ in range(3)]
        assert workers[0].token == "Bearer papi-1"
        key = workers[0]._key
        lock = _TOKEN_LOCKS[key]
        queued = threading.Condition()
        waiting = []

        class CountingLock:
            """The token lock, counting the workers that queued up for it (each read the stale token first)."""

            def __enter__(self):
                with queued:
                    waiting.append(1)
                    queued.notify_all()
                lock.acquire()

            def __exit__(self, *exc):
                lock.release()

        _TOKEN_LOCKS[key] = CountingLock()
        lock.acquire()  # hold the refresh until every worker has seen the stale token and queued up
        threads = [threading.Thread(target=w.refresh_and_set_access_token) for w in workers]
        for t in threads:
            t.start()
        with queued:
            assert queued.wait_for(lambda: len(waiting) == len(threads), timeout=10)
        lock.release()
        for t in threads:
            t.join()
        _TOKEN_LOCKS[key] = lock
        http.assert_number_of_calls(auth, 2)
    assert {w.token for w in workers} == {"Bearer papi-2"}
