"""Request economy (issue 6) against mocked Personio: no request whose answer is already known.

* a v1 list whose size is an exact multiple of the page size ends without an extra empty page,
  unless ``total_elements`` drifts (then the empty page still ends it);
* substreams of incremental parents (absence period breakdowns, stage transitions) read only the
  parents changed since the state saved with them; the mock answers nothing else, so a request for
  an unchanged parent fails the test.
"""

from __future__ import annotations

import json
from typing import Any, Dict, List, Optional

import requests

from airbyte_cdk.models import SyncMode
from airbyte_cdk.test.mock_http import HttpMocker, HttpRequest

from personio_mocks import BASE, json_response, mock_auth, read_stream, record_data
from source_personio.pagination import OverlappingPageNumberPagination, OverlappingRecordOffsetPagination


def v1_page(ids: List[int], total: Optional[int]) -> requests.Response:
    response = requests.Response()
    response.status_code = 200
    metadata = {} if total is None else {"total_elements": total}
    data = [{"type": "TimeOffPeriod", "attributes": {"id": i}} for i in ids]
    response._content = json.dumps({"success": True, "metadata": metadata, "data": data}).encode()
    return response


def by_record(size: int = 3) -> OverlappingRecordOffsetPagination:
    return OverlappingRecordOffsetPagination(config={}, parameters={"name": "employees"}, page_size=size)


def by_page(size: int = 4) -> OverlappingPageNumberPagination:
    return OverlappingPageNumberPagination(config={}, parameters={"name": "absences"}, page_size=size, min_page_size=2)


def test_a_full_last_page_that_total_elements_confirms_ends_the_read_by_record_offset():
    p = by_record()
    assert p.next_page_token(v1_page([1, 2, 3], 5), 3, None, "0") == "2"  # overlaps record 3
    assert p.next_page_token(v1_page([3, 4, 5], 5), 3, None, "2") is None


def test_a_full_last_page_that_total_elements_confirms_ends_the_read_by_page_number():
    p = by_page()
    token = p.next_page_token(v1_page([1, 2, 3, 4], 6), 4, None, {"page": 1, "limit": 4})
    assert token == {"page": 2, "limit": 3}  # positions 3..5: starts at record 4, the last one read
    assert p.next_page_token(v1_page([4, 5, 6], 6), 3, None, token) is None


def test_a_single_full_page_holding_every_record_is_the_only_request():
    assert by_record().next_page_token(v1_page([1, 2, 3], 3), 3, None, "0") is None
    assert by_page().next_page_token(v1_page([1, 2, 3, 4], 4), 4, None, {"page": 1, "limit": 4}) is None


def test_a_total_that_changed_since_the_previous_page_never_ends_the_read():
    p = by_record()
    assert p.next_page_token(v1_page([1, 2, 3], 6), 3, None, "0") == "2"
    # the total now says 5 (= the records read): it drifted, so the next page is asked for anyway
    assert p.next_page_token(v1_page([3, 4, 5], 5), 3, None, "2") == "4"
    assert p.next_page_token(v1_page([5], 5), 1, None, "4") is None


def test_without_total_elements_a_full_page_asks_for_the_next():
    assert by_record().next_page_token(v1_page([1, 2, 3], None), 3, None, "0") == "2"


# ---------------------------------------------------------------- substreams of incremental parents


def v2_page(records: List[Dict[str, Any]]) -> Any:
    return json_response({"_data": records, "_meta": {"links": {"self": {"href": f"{BASE}/v2/x"}}}})


def v2_request(path: str, **params: str) -> HttpRequest:
    return HttpRequest(f"{BASE}/v2{path}", query_params=params)


DAY = {"date": "2024-03-05", "effective_duration": {"unit": "DAY", "value": 1}}


def test_breakdowns_incremental_reads_only_periods_updated_after_the_saved_parent_state(config):
    state = {
        "use_global_cursor": True,
        "state": {"date": "2024-03-01"},
        "parent_state": {"absence_periods": {"updated_at": "2024-03-01T10:00:00Z"}},
    }
    with HttpMocker() as http:
        mock_auth(http, v1=False, v2=True)
        http.get(
            v2_request("/absence-periods", limit="100", **{"updated_at.gte": "2024-03-01T10:00:00"}),
            # a1 is the period the previous sync's state came from (updated_at.gte is inclusive): not re-read
            v2_page([{"id": "a1", "updated_at": "2024-03-01T10:00:00Z"}, {"id": "a2", "updated_at": "2024-03-04T08:00:00Z"}]),
        )
        http.get(v2_request("/absence-periods/a2/breakdowns", limit="28"), v2_page([DAY]))
        output = read_stream("absence_period_breakdowns", config, SyncMode.incremental, state=state)
    assert [(r["absence_period_id"], r["date"]) for r in record_data(output)] == [("a2", "2024-03-05")]
    final = output.most_recent_state.stream_state.__dict__
    assert final["parent_state"] == {"absence_periods": {"updated_at": "2024-03-04T08:00:00Z"}}


def test_breakdowns_first_sync_reads_every_period_since_start_date_even_one_updated_at_its_midnight(config):
    with HttpMocker() as http:
        mock_auth(http, v1=False, v2=True)
        http.get(
            v2_request("/absence-periods", limit="100", **{"updated_at.gte": "2024-01-01T00:00:00"}),
            v2_page([{"id": "a0", "updated_at": "2024-01-01T00:00:00Z"}]),
        )
        http.get(v2_request("/absence-periods/a0/breakdowns", limit="28"), v2_page([DAY]))
        output = read_stream("absence_period_breakdowns", config, SyncMode.incremental)
    assert [r["absence_period_id"] for r in record_data(output)] == ["a0"]


def test_stage_transitions_incremental_reads_only_applications_updated_after_the_saved_parent_state(config):
    state = {
        "use_global_cursor": True,
        "state": {"entered_at": "2024-05-01T00:00:00Z"},
        "parent_state": {"recruiting_applications": {"updated_at": "2024-05-01T00:00:00Z"}},
    }
    with HttpMocker() as http:
        mock_auth(http, v1=False, v2=True)
        http.get(
            v2_request("/recruiting/applications", limit="200", **{"updated_at.gt": "2024-05-01T00:00:00Z"}),
            v2_page([{"id": "7", "updated_at": "2024-05-02T00:00:00Z"}]),
        )
        http.get(
            v2_request("/recruiting/applications/7/stage-transitions", limit="200"),
            v2_page([{"entered_at": "2024-05-02T00:00:00Z", "stage": {"id": "1"}}]),
        )
        output = read_stream("recruiting_application_stage_transitions", config, SyncMode.incremental, state=state)
    assert [(r["application_id"], r["entered_at"]) for r in record_data(output)] == [("7", "2024-05-02T00:00:00Z")]
    final = output.most_recent_state.stream_state.__dict__
    assert final["parent_state"] == {"recruiting_applications": {"updated_at": "2024-05-02T00:00:00Z"}}


# ---------------------------------------------------------------- parsing responses cheaply


def raw_response(content: bytes) -> requests.Response:
    response = requests.Response()
    response.status_code = 200
    response._content = content
    response.encoding = "utf-8"
    return response


def test_a_response_body_is_parsed_once_and_shared_by_every_reader(monkeypatch):
    from source_personio import extractors as components

    calls = []
    real_loads = components.orjson.loads
    monkeypatch.setattr(components.orjson, "loads", lambda b: calls.append(1) or real_loads(b))
    response = components.parse_json_once(raw_response(b'{"success": true, "data": [{"id": 1}]}'))
    assert response.json() == {"success": True, "data": [{"id": 1}]}
    assert response.json() is response.json()
    assert len(calls) == 1


def test_a_body_that_is_not_json_raises_what_requests_raises():
    from source_personio.extractors import parse_json_once

    response = parse_json_once(raw_response(b'{"success": tr'))
    try:
        response.json()
    except requests.exceptions.JSONDecodeError:
        pass
    else:
        raise AssertionError("expected requests' JSONDecodeError")


def test_records_come_from_the_top_level_key_as_copies_of_the_parsed_page():
    from source_personio.extractors import TopLevelRecordsExtractor, parse_json_once

    extractor = TopLevelRecordsExtractor(field_name="_data", config={}, parameters={})
    response = parse_json_once(raw_response(b'{"_data": [{"id": "a"}, {"id": "b"}], "_meta": {"links": {}}}'))
    records = list(extractor.extract_records(response))
    assert records == [{"id": "a"}, {"id": "b"}]
    records[0]["id"] = "changed"  # a transformation changing a record leaves the paginator's view alone
    assert response.json()["_data"][0]["id"] == "a"
    assert list(extractor.extract_records(raw_response(b"not json"))) == []
    assert list(extractor.extract_records(raw_response(b'{"_data": []}'))) == []


def test_every_request_the_authenticator_signs_parses_its_response_once(config):
    from source_personio.auth import PersonioTokenAuthenticator
    from source_personio.extractors import parse_json_once

    authenticator = PersonioTokenAuthenticator(config=config, parameters={}, api_version="v2")
    monkey_token = lambda: "t"  # noqa: E731
    authenticator.get_access_token = monkey_token
    request = requests.Request("GET", f"{BASE}/v2/persons").prepare()
    signed = authenticator(request)
    assert signed.headers["Authorization"] == "Bearer t"
    assert parse_json_once in signed.hooks["response"]
