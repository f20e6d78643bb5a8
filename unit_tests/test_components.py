"""Each custom component on its own: the Personio quirk it exists for."""

from __future__ import annotations

import json

import pytest
import requests

from airbyte_cdk.models import FailureType
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_personio.normalization import BlankObjectsToNull
from source_personio.auth import PersonioTokenAuthenticator
from source_personio.extractors import CustomReportRowsExtractor
from source_personio.transformations import FlattenAttributes
from source_personio.pagination import PersonioCursorPagination
from source_personio.config import validate_base_url, validate_config


def response(body) -> requests.Response:
    r = requests.Response()
    r.status_code = 200
    r._content = json.dumps(body).encode()
    return r


# ---------------------------------------------------------------- FlattenAttributes


def test_flatten_attributes_unwraps_values_and_keeps_nested_entities_as_objects():
    record = {
        "type": "Employee",
        "attributes": {
            "id": {"label": "ID", "value": 5, "type": "integer", "universal_id": "id"},
            "dynamic_99": {"label": "IBAN", "value": "DE00", "type": "standard", "universal_id": None},
            "cost_centers": {
                "label": "Cost center",
                "value": [{"type": "CostCenter", "attributes": {"id": 1, "name": "R&D", "percentage": 60}}],
                "type": "list",
                "universal_id": "cost_centers",
            },
            "termination_date": {"label": "Termination date", "value": None, "type": "date", "universal_id": None},
        },
    }
    FlattenAttributes().transform(record)
    assert record == {
        "id": 5,
        "dynamic_99": "DE00",
        "cost_centers": [{"id": 1, "name": "R&D", "percentage": 60}],
        "termination_date": None,
    }


def test_flatten_attributes_keeps_top_level_fields_outside_attributes():
    record = {"id": 3, "type": "DocumentCategory", "attributes": {"name": "Payslips"}}
    FlattenAttributes().transform(record)
    assert record == {"id": 3, "name": "Payslips"}


def test_flatten_attributes_leaves_plain_objects_alone():
    record = {"id": 1, "certificate": {"status": "not-required"}}
    FlattenAttributes().transform(record)
    assert record == {"id": 1, "certificate": {"status": "not-required"}}


# ---------------------------------------------------------------- PersonioCursorPagination


@pytest.fixture
def cursor_pagination():
    return PersonioCursorPagination(config={}, parameters={}, page_size=100)


@pytest.mark.parametrize(
    "href",
    ["https://api.personio.de/v2/attendance-periods?cursor=abc%3D%3D&limit=100", "/v2/attendance-periods?cursor=abc%3D%3D"],
)
def test_cursor_pagination_takes_the_cursor_from_absolute_and_relative_links(cursor_pagination, href):
    body = {"_data": [{}], "_meta": {"links": {"next": {"href": href}}}}
    assert cursor_pagination.next_page_token(response(body), 1, None, None) == "abc=="


def test_cursor_pagination_stops_without_a_next_link(cursor_pagination):
    body = {"_data": [{}], "_meta": {"links": {"self": {"href": "/v2/projects"}}}}
    assert cursor_pagination.next_page_token(response(body), 1, None, "x") is None


def test_cursor_pagination_re_requests_a_repeated_cursor_twice_then_fails_clearly(cursor_pagination):
    """A next link repeating the cursor just read is retried (a glitch loses nothing), but never
    followed forever and never taken as the end of the data (that would silently drop the rest)."""
    body = {"_data": [{}], "_meta": {"links": {"next": {"href": "/v2/persons?cursor=same"}}}}
    assert cursor_pagination.next_page_token(response(body), 1, None, "same") == "same"
    assert cursor_pagination.next_page_token(response(body), 1, None, "same") == "same"
    with pytest.raises(AirbyteTracedException) as error:
        cursor_pagination.next_page_token(response(body), 1, None, "same")
    assert "same cursor 3 times" in error.value.message
    assert error.value.failure_type == FailureType.system_error


# ---------------------------------------------------------------- CustomReportRowsExtractor


def test_custom_report_rows_point_in_time_have_empty_effective_date():
    body = {
        "data": [
            {
                "type": "Report",
                "attributes": {
                    "id": "r1",
                    "type": "point_in_time",
                    "items": [{"employee_id": 4, "attributes": [{"attribute_id": "salary_1", "data_type": "SALARY", "amount": "10", "employee_id": 4}]}],
                },
            }
        ]
    }
    rows = list(CustomReportRowsExtractor(config={}, parameters={}).extract_records(response(body)))
    assert rows == [
        {"report_id": "r1", "report_type": "point_in_time", "employee_id": 4, "effective_date": "", "attributes": [{"attribute_id": "salary_1", "data_type": "SALARY", "amount": "10"}]}
    ]


# ---------------------------------------------------------------- configuration


@pytest.mark.parametrize(
    "url",
    ["https://api.personio.de", "http://127.0.0.1:8080", "http://127.9.9.9:1", "http://localhost:9000", "http://[::1]:8000"],
)
def test_base_url_accepts_https_and_loopback_http(url):
    assert validate_base_url(url) == url


@pytest.mark.parametrize("url", ["http://api.personio.de", "http://10.0.0.1", "http://128.0.0.1", "ftp://127.0.0.1", "not a url"])
def test_base_url_rejects_plain_http_to_other_hosts_and_junk(url):
    with pytest.raises(AirbyteTracedException) as error:
        validate_base_url(url)
    assert error.value.failure_type == FailureType.config_error


def test_missing_client_secret_is_a_config_error_naming_the_field():
    with pytest.raises(AirbyteTracedException) as error:
        validate_config({"client_id": "x"})
    assert "client_secret" in error.value.message
    assert error.value.failure_type == FailureType.config_error


def test_out_of_range_num_workers_is_a_config_error():
    with pytest.raises(AirbyteTracedException) as error:
        validate_config({"client_id": "x", "client_secret": "y", "num_workers": 500})
    assert "num_workers" in error.value.message


# ---------------------------------------------------------------- BlankObjectsToNull


def test_blank_objects_to_null_only_touches_object_and_list_fields():
    schema = {
        "type": "object",
        "properties": {
            "department": {"type": ["null", "object"]},
            "cost_centers": {"type": ["null", "array"]},
            "preferred_name": {"type": ["null", "string"]},
        },
    }
    record = {"department": "", "cost_centers": "", "preferred_name": ""}
    BlankObjectsToNull().transform(record, schema)
    assert record == {"department": None, "cost_centers": None, "preferred_name": ""}


# ---------------------------------------------------------------- PersonioTokenAuthenticator


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
