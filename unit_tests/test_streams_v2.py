"""Issue-5 streams against mocked Personio responses: request paths, page sizes, cursors and
incremental filters (the mock only answers requests with exactly these query parameters)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Dict, List, Optional

import pytest
from airbyte_cdk.models import FailureType, SyncMode
from airbyte_cdk.test.mock_http.request import ANY_QUERY_PARAMS
from airbyte_cdk.test.mock_http import HttpMocker, HttpRequest

from personio_mocks import BASE, json_response, mock_auth, read_stream, record_data, v1_list


def v2_page(records: List[Dict[str, Any]], next_cursor: Optional[str] = None, path: str = "/v2/x") -> Any:
    links: Dict[str, Any] = {"self": {"href": f"{BASE}{path}"}}
    if next_cursor:
        links["next"] = {"href": f"{BASE}{path}?cursor={next_cursor}"}
    return json_response({"_data": records, "_meta": {"links": links}})


def v2_request(path: str, **params: str) -> HttpRequest:
    return HttpRequest(f"{BASE}/v2{path}", query_params=params)


# ---------------------------------------------------------------- employee_attributes


def test_employee_attributes_are_read_from_the_v1_attribute_list(config):
    attributes = [
        {"key": "first_name", "label": "First name", "type": "standard", "universal_id": "first_name", "options": []},
        {"key": "dynamic_101", "label": "Shirt", "type": "list", "universal_id": None, "options": ["S", "M"]},
    ]
    with HttpMocker() as http:
        mock_auth(http)
        http.get(HttpRequest(f"{BASE}/v1/company/employees/attributes"), json_response(v1_list(attributes)))
        records = record_data(read_stream("employee_attributes", config))
    # (the CDK's message serializer leaves out null values)
    assert records == [{k: v for k, v in a.items() if v is not None} for a in attributes]


# ---------------------------------------------------------------- persons


def person(person_id: str, updated_at: str) -> Dict[str, Any]:
    return {"id": person_id, "first_name": "P" + person_id, "updated_at": updated_at}


def test_persons_are_asked_for_in_pages_of_50(config):
    # more than a page: read in updated_at windows, unit_tests/test_time_windows.py
    with HttpMocker() as http:
        mock_auth(http, v1=False, v2=True)
        http.get(v2_request("/persons", limit="50"), v2_page([person("1", "2024-01-01T00:00:00Z"), person("2", "2024-01-02T00:00:00Z")]))
        records = record_data(read_stream("persons", config))
    assert [r["id"] for r in records] == ["1", "2"]


def test_persons_first_incremental_sync_has_no_filter_and_saves_the_newest_updated_at(config):
    with HttpMocker() as http:
        mock_auth(http, v1=False, v2=True)
        # not in updated_at order: the state must still be the newest
        http.get(
            v2_request("/persons", limit="50"),
            v2_page([person("1", "2024-03-01T10:00:00Z"), person("2", "2024-05-01T10:00:00Z"), person("3", "2024-04-01T10:00:00Z")]),
        )
        output = read_stream("persons", config, SyncMode.incremental)
    assert len(record_data(output)) == 3
    assert output.most_recent_state.stream_state.updated_at == "2024-05-01T10:00:00Z"


def test_persons_incremental_asks_for_updated_at_gt_the_state(config):
    with HttpMocker() as http:
        mock_auth(http, v1=False, v2=True)
        http.get(
            v2_request("/persons", limit="50", **{"updated_at.gt": "2024-05-01T10:00:00Z"}),
            v2_page([person("4", "2024-06-01T08:00:00Z")]),
        )
        output = read_stream("persons", config, SyncMode.incremental, state={"updated_at": "2024-05-01T10:00:00Z"})
    assert [r["id"] for r in record_data(output)] == ["4"]
    assert output.most_recent_state.stream_state.updated_at == "2024-06-01T08:00:00Z"


def test_persons_incremental_without_changes_keeps_the_state(config):
    with HttpMocker() as http:
        mock_auth(http, v1=False, v2=True)
        http.get(v2_request("/persons", limit="50", **{"updated_at.gt": "2024-05-01T10:00:00Z"}), v2_page([]))
        output = read_stream("persons", config, SyncMode.incremental, state={"updated_at": "2024-05-01T10:00:00Z"})
    assert record_data(output) == []
    assert output.most_recent_state.stream_state.updated_at == "2024-05-01T10:00:00Z"


# ---------------------------------------------------------------- employments


def employment(employment_id: str, person_id: str, updated_at: str) -> Dict[str, Any]:
    return {"id": employment_id, "person": {"id": person_id}, "updated_at": updated_at}


def test_employments_are_read_per_person_in_pages_of_50(config):
    with HttpMocker() as http:
        mock_auth(http, v1=False, v2=True)
        http.get(v2_request("/persons", limit="50"), v2_page([person("1", "2024-01-01T00:00:00Z"), person("2", "2024-01-01T00:00:00Z")]))
        http.get(v2_request("/persons/1/employments", limit="50"), v2_page([employment("e1", "1", "2024-01-01T00:00:00Z")], "n"))
        http.get(v2_request("/persons/1/employments", limit="50", cursor="n"), v2_page([employment("e0", "1", "2023-01-01T00:00:00Z")]))
        http.get(v2_request("/persons/2/employments", limit="50"), v2_page([employment("e2", "2", "2024-01-01T00:00:00Z")]))
        records = record_data(read_stream("employments", config))
    assert sorted(r["id"] for r in records) == ["e0", "e1", "e2"]


def employments_state(updated_at: str, persons_updated_at: str) -> Dict[str, Any]:
    return {
        "use_global_cursor": True,
        "state": {"updated_at": updated_at},
        "lookback_window": 0,
        "parent_state": {"persons": {"updated_at": persons_updated_at}},
    }


# the employments filter starts 5 minutes (the clock-skew margin) before the saved state
STATE_MINUS_MARGIN = "2024-05-01T09:55:00Z"


def test_employments_opt_in_fast_mode_reads_only_persons_changed_since_the_state(config):
    state = employments_state("2024-05-01T10:00:00Z", "2024-05-01T09:00:00Z")
    config = {**config, "employments_every_person": False}
    with HttpMocker() as http:
        mock_auth(http, v1=False, v2=True)
        http.get(
            v2_request("/persons", limit="50", **{"updated_at.gt": "2024-05-01T09:00:00Z"}),
            v2_page([person("1", "2024-06-02T00:00:00Z")]),
        )
        # person 2 did not change: no request for its employments (HttpMocker fails on unmatched calls)
        http.get(
            v2_request("/persons/1/employments", limit="50", **{"updated_at.gt": STATE_MINUS_MARGIN}),
            v2_page([employment("e1", "1", "2024-06-02T00:00:00Z")]),
        )
        output = read_stream("employments", config, SyncMode.incremental, state=state)
    assert [r["id"] for r in record_data(output)] == ["e1"]
    final = output.most_recent_state.stream_state.__dict__
    assert final["state"] == {"updated_at": "2024-06-02T00:00:00Z"}
    assert final["use_global_cursor"] is True
    assert final["parent_state"] == {"persons": {"updated_at": "2024-06-02T00:00:00Z"}}


def test_employments_opt_in_fast_mode_without_changed_persons_makes_no_employment_request(config):
    state = employments_state("2024-05-01T10:00:00Z", "2024-05-01T09:00:00Z")
    config = {**config, "employments_every_person": False}
    with HttpMocker() as http:
        mock_auth(http, v1=False, v2=True)
        http.get(v2_request("/persons", limit="50", **{"updated_at.gt": "2024-05-01T09:00:00Z"}), v2_page([]))
        output = read_stream("employments", config, SyncMode.incremental, state=state)
    assert record_data(output) == []
    assert output.most_recent_state.stream_state.__dict__["state"] == {"updated_at": "2024-05-01T10:00:00Z"}


@pytest.mark.parametrize("option", [None, True], ids=["default", "employments_every_person true"])
def test_employments_incremental_asks_every_person_for_updated_at_gt_the_state(config, option):
    """By default: Personio does not promise that an employment change moves its person's updated_at
    (person 2 did not change here, yet its employments are asked for)."""
    state = employments_state("2024-05-01T10:00:00Z", "2024-05-01T09:00:00Z")
    if option is not None:
        config = {**config, "employments_every_person": option}
    with HttpMocker() as http:
        mock_auth(http, v1=False, v2=True)
        http.get(v2_request("/persons", limit="50"), v2_page([person("1", "2024-01-01T00:00:00Z"), person("2", "2024-01-01T00:00:00Z")]))
        for person_id, records in (("1", []), ("2", [employment("e2", "2", "2024-06-02T00:00:00Z")])):
            http.get(
                v2_request(f"/persons/{person_id}/employments", limit="50", **{"updated_at.gt": STATE_MINUS_MARGIN}),
                v2_page(records),
            )
        output = read_stream("employments", config, SyncMode.incremental, state=state)
    assert [r["id"] for r in record_data(output)] == ["e2"]
    assert output.most_recent_state.stream_state.__dict__["state"] == {"updated_at": "2024-06-02T00:00:00Z"}


# ---------------------------------------------------------------- absence periods and breakdowns


def test_absence_periods_first_sync_asks_for_updated_at_gte_start_date_without_z(config):
    with HttpMocker() as http:
        mock_auth(http, v1=False, v2=True)
        http.get(
            v2_request("/absence-periods", limit="100", **{"updated_at.gte": "2024-01-01T00:00:00"}),
            v2_page([{"id": "a1", "updated_at": "2024-02-01T00:00:00Z"}, {"id": "a2", "updated_at": "2024-03-01T00:00:00Z"}]),
        )
        output = read_stream("absence_periods", config, SyncMode.incremental)
    assert [r["id"] for r in record_data(output)] == ["a1", "a2"]
    assert output.most_recent_state.stream_state.updated_at == "2024-03-01T00:00:00Z"


def test_absence_periods_incremental_asks_for_updated_at_gte_the_state(config):
    with HttpMocker() as http:
        mock_auth(http, v1=False, v2=True)
        http.get(
            v2_request("/absence-periods", limit="100", **{"updated_at.gte": "2024-03-01T00:00:00"}),
            v2_page([{"id": "a3", "updated_at": "2024-03-05T00:00:00Z"}]),
        )
        output = read_stream("absence_periods", config, SyncMode.incremental, state={"updated_at": "2024-03-01T00:00:00Z"})
    assert [r["id"] for r in record_data(output)] == ["a3"]


def test_absence_period_breakdowns_are_read_per_period_28_days_a_page_with_the_period_id(config):
    with HttpMocker() as http:
        mock_auth(http, v1=False, v2=True)
        # the parent reads the absence periods the absence_periods stream reads (updated since start_date)
        http.get(
            v2_request("/absence-periods", limit="100", **{"updated_at.gte": "2024-01-01T00:00:00"}),
            v2_page([{"id": "a1", "updated_at": "2024-02-01T00:00:00Z"}]),
        )
        day = lambda d: {"date": d, "effective_duration": {"unit": "DAY", "value": 1}}  # noqa: E731
        http.get(v2_request("/absence-periods/a1/breakdowns", limit="28"), v2_page([day("2024-02-01")], "n"))
        http.get(v2_request("/absence-periods/a1/breakdowns", limit="28", cursor="n"), v2_page([day("2024-02-29")]))
        records = record_data(read_stream("absence_period_breakdowns", config))
    assert [(r["absence_period_id"], r["date"]) for r in records] == [("a1", "2024-02-01"), ("a1", "2024-02-29")]


# ---------------------------------------------------------------- reference data


def test_org_units_are_read_once_per_org_unit_type(config):
    with HttpMocker() as http:
        mock_auth(http, v1=False, v2=True)
        http.get(v2_request("/org-units", limit="100", type="department"), v2_page([{"id": "1", "type": "department"}]))
        http.get(v2_request("/org-units", limit="100", type="team"), v2_page([{"id": "2", "type": "team"}], "n"))
        http.get(v2_request("/org-units", limit="100", type="team", cursor="n"), v2_page([{"id": "3", "type": "team"}]))
        records = record_data(read_stream("org_units", config))
    assert sorted((r["id"], r["type"]) for r in records) == [("1", "department"), ("2", "team"), ("3", "team")]


def test_simple_v2_lists_follow_cursors(config):
    streams = {
        "legal_entities": ("/legal-entities", "100"),
        "cost_centers": ("/cost-centers", "100"),
        "workplaces": ("/workplaces", "100"),
        "compensation_types": ("/compensations/types", "100"),
        "recruiting_jobs": ("/recruiting/jobs", "200"),
        "recruiting_categories": ("/recruiting/categories", "100"),
    }
    for stream, (path, limit) in streams.items():
        with HttpMocker() as http:
            mock_auth(http, v1=False, v2=True)
            http.get(v2_request(path, limit=limit), v2_page([{"id": "1"}], "n"))
            http.get(v2_request(path, limit=limit, cursor="n"), v2_page([{"id": "2"}]))
            records = record_data(read_stream(stream, config))
        assert [r["id"] for r in records] == ["1", "2"], stream


# ---------------------------------------------------------------- compensations


def month_windows(start: dt.date, today: dt.date):
    first = start
    while first <= today:
        nxt = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
        yield first, min(nxt - dt.timedelta(days=1), today)
        first = nxt


def test_compensations_are_asked_one_calendar_month_at_a_time_until_today(config):
    today = dt.datetime.now(dt.timezone.utc).date()
    start = (today.replace(day=1) - dt.timedelta(days=40)).replace(day=1)  # first day, two months back
    config = {**config, "start_date": start.isoformat()}
    windows = list(month_windows(start, today))
    assert len(windows) == 3
    with HttpMocker() as http:
        mock_auth(http, v1=False, v2=True)
        for first, last in windows:
            http.get(
                v2_request("/compensations", limit="100", start_date=first.isoformat(), end_date=last.isoformat()),
                v2_page([{"id": f"c-{first}", "effective_date": first.isoformat()}]),
            )
        output = read_stream("compensations", config, SyncMode.incremental)
    assert sorted(r["id"] for r in record_data(output)) == sorted(f"c-{first}" for first, _ in windows)
    assert output.most_recent_state.stream_state.effective_date == windows[-1][0].isoformat()


def months_before(first_of_month: dt.date, n: int) -> dt.date:
    for _ in range(n):
        first_of_month = (first_of_month - dt.timedelta(days=1)).replace(day=1)
    return first_of_month


@pytest.mark.parametrize("lookback", [None, 0, 1, 5], ids=["default 3", "0", "1", "5"])
def test_compensations_incremental_re_reads_the_lookback_months_before_the_state(config, lookback):
    """A back-dated correction of a past month arrives: the months before the state are asked again."""
    today = dt.datetime.now(dt.timezone.utc).date()
    this_month = today.replace(day=1)
    months = 3 if lookback is None else lookback
    config = {**config, "start_date": "2020-01-01"}
    if lookback is not None:
        config["compensations_lookback_months"] = lookback
    windows = list(month_windows(months_before(this_month, months), today))
    assert len(windows) == months + 1
    with HttpMocker() as http:
        mock_auth(http, v1=False, v2=True)
        for first, last in windows:
            http.get(
                v2_request("/compensations", limit="100", start_date=first.isoformat(), end_date=last.isoformat()),
                v2_page([{"id": f"c-{first}", "effective_date": first.isoformat()}]),
            )
        output = read_stream("compensations", config, SyncMode.incremental, state={"effective_date": this_month.isoformat()})
    # HttpMocker fails on any request it was not given: exactly these windows were asked
    assert sorted(r["id"] for r in record_data(output)) == sorted(f"c-{first}" for first, _ in windows)
    assert output.most_recent_state.stream_state.effective_date == this_month.isoformat()


@pytest.mark.parametrize("value", [-1, 25, "3", True, 1.5])
def test_compensations_lookback_months_outside_0_to_24_is_a_config_error_naming_it(config, value):
    from airbyte_cdk.models import FailureType
    from airbyte_cdk.utils.traced_exception import AirbyteTracedException

    from source_personio.config import validate_config

    with pytest.raises(AirbyteTracedException) as error:
        validate_config({**config, "compensations_lookback_months": value})
    assert error.value.failure_type == FailureType.config_error
    assert error.value.message.startswith("compensations_lookback_months must be an integer between 0 and 24")


def test_the_spec_documents_the_new_and_changed_incremental_options():
    from source_personio.source import SourcePersonio

    properties = SourcePersonio().spec(None).connectionSpecification["properties"]
    assert properties["compensations_lookback_months"]["default"] == 3
    assert (properties["compensations_lookback_months"]["minimum"], properties["compensations_lookback_months"]["maximum"]) == (0, 24)
    assert properties["employments_every_person"]["default"] is True
    assert "not synced" in properties["employments_every_person"]["description"]


# ---------------------------------------------------------------- recruiting


def test_recruiting_candidates_newest_first_save_the_newest_updated_at(config):
    """The second page is asked for by updated_at.lt (the oldest second read + 1 s), not by the cursor;
    .gt is not sent with it (Personio: mutually exclusive). A read of more than one request ends with a pass
    for what changed since it began (its updated_at.gt depends on the clock: any query)."""
    with HttpMocker() as http:
        mock_auth(http, v1=False, v2=True)
        # registered first: HttpMocker tries the later, exact requests before it
        http.get(HttpRequest(f"{BASE}/v2/recruiting/candidates", query_params=ANY_QUERY_PARAMS), v2_page([]))
        http.get(
            v2_request("/recruiting/candidates", limit="200", **{"updated_at.gt": "2024-01-01T00:00:00Z"}),
            v2_page([{"id": "c3", "updated_at": "2024-03-01T00:00:00Z"}, {"id": "c2", "updated_at": "2024-02-01T00:00:00Z"}], "n"),
        )
        http.get(
            v2_request("/recruiting/candidates", limit="200", **{"updated_at.lt": "2024-02-01T00:00:01Z"}),
            v2_page([{"id": "c2", "updated_at": "2024-02-01T00:00:00Z"}, {"id": "c1", "updated_at": "2024-01-15T00:00:00Z"},
                     {"id": "c0", "updated_at": "2023-12-01T00:00:00Z"}], "m"),
        )
        output = read_stream("recruiting_candidates", config, SyncMode.incremental, state={"updated_at": "2024-01-01T00:00:00Z"})
    assert [r["id"] for r in record_data(output)] == ["c3", "c2", "c1"]
    # state only once the whole (newest-first) list is read: never an older record's value
    assert {s.state.stream.stream_state.updated_at for s in output.state_messages} == {"2024-03-01T00:00:00Z"}


def test_recruiting_applications_incremental_asks_for_updated_at_gt_the_state(config):
    with HttpMocker() as http:
        mock_auth(http, v1=False, v2=True)
        http.get(
            v2_request("/recruiting/applications", limit="200", **{"updated_at.gt": "2024-02-01T00:00:00Z"}),
            v2_page([{"id": "a9", "updated_at": "2024-02-03T00:00:00Z"}]),
        )
        output = read_stream("recruiting_applications", config, SyncMode.incremental, state={"updated_at": "2024-02-01T00:00:00Z"})
    assert [r["id"] for r in record_data(output)] == ["a9"]
    assert output.most_recent_state.stream_state.updated_at == "2024-02-03T00:00:00Z"


def test_stage_transitions_are_read_per_application_with_a_string_application_id(config):
    with HttpMocker() as http:
        mock_auth(http, v1=False, v2=True)
        http.get(v2_request("/recruiting/applications", limit="200"), v2_page([{"id": "3000001", "updated_at": "2024-02-03T00:00:00Z"}]))
        http.get(
            v2_request("/recruiting/applications/3000001/stage-transitions", limit="200"),
            v2_page([{"entered_at": "2024-02-03T00:00:00Z", "stage": {"id": "2", "name": "Interview"}}], "n"),
        )
        http.get(
            v2_request("/recruiting/applications/3000001/stage-transitions", limit="200", cursor="n"),
            v2_page([{"entered_at": "2024-02-01T00:00:00Z", "stage": {"id": "1", "name": "New"}}]),
        )
        records = record_data(read_stream("recruiting_application_stage_transitions", config))
    assert [(r["application_id"], r["entered_at"]) for r in records] == [
        ("3000001", "2024-02-03T00:00:00Z"),
        ("3000001", "2024-02-01T00:00:00Z"),
    ]


# ---------------------------------------------------------------- permissions


def test_a_stream_without_scope_is_skipped_while_the_others_are_read(config):
    from airbyte_cdk.test.catalog_builder import CatalogBuilder
    from airbyte_cdk.test.entrypoint_wrapper import read

    from source_personio.source import SourcePersonio

    catalog = CatalogBuilder().with_stream("cost_centers", SyncMode.full_refresh).with_stream("recruiting_jobs", SyncMode.full_refresh).build()
    with HttpMocker() as http:
        mock_auth(http, v1=False, v2=True)
        http.get(v2_request("/cost-centers", limit="100"), v2_page([{"id": "1", "name": "CC"}]))
        http.get(
            v2_request("/recruiting/jobs", limit="200"),
            json_response({"errors": [{"title": "Forbidden", "detail": "The access token does not have the required scope"}]}, 403),
        )
        output = read(SourcePersonio(catalog=catalog, config=config), config, catalog)
    assert not output.errors
    assert [r.record.data["id"] for r in output.records] == ["1"]
    warnings = [m.log.message for m in output.logs if m.log.level.value == "WARN"]
    assert any(w.startswith("Skipped stream recruiting_jobs:") and "personio:recruiting:read" in w for w in warnings)


def test_a_stream_failing_for_another_reason_still_fails_the_sync(config, sleeps):
    with HttpMocker() as http:
        mock_auth(http, v1=False, v2=True)
        http.get(v2_request("/cost-centers", limit="100"), json_response({"errors": [{"title": "Bad request"}]}, 400))
        output = read_stream("cost_centers", config, expecting_exception=True)
    # the stream's own error: a 400 that names no missing module or right is the CDK's bad-request failure,
    # not a skip (a skip would be a WARN "Skipped stream cost_centers: ..." and a config error)
    (error,) = [e.trace.error for e in output.errors if e.trace.error.stream_descriptor is not None]
    assert error.stream_descriptor.name == "cost_centers"
    assert error.failure_type == FailureType.system_error
    assert "HTTP Status Code: 400" in error.message
    assert not [m for m in output.logs if m.log.message.startswith("Skipped stream cost_centers")]
    assert output.records == []


def test_check_fails_when_the_credential_may_read_nothing(config):
    import logging

    from airbyte_cdk.models import Status

    from source_personio.access_check import CHECK_PROBES
    from source_personio.source import SourcePersonio

    with HttpMocker() as http:
        mock_auth(http, v1=True, v2=True)
        for version, path, params, *_ in CHECK_PROBES:
            request = HttpRequest(f"{BASE}{path}", query_params={k: str(v) for k, v in params.items()} or None)
            body = {"success": False, "error": {"code": 403, "message": "Forbidden"}} if version == "v1" else {"errors": [{"title": "Forbidden"}]}
            http.get(request, json_response(body, 403))
        status = SourcePersonio(config=config).check(logging.getLogger("test"), config)
    assert status.status == Status.FAILED
    assert "personio:recruiting:read" in status.message and "employees" in status.message


def test_missing_permission_log_filter_drops_only_403_failures():
    import logging

    from airbyte_cdk.models import FailureType
    from airbyte_cdk.utils.traced_exception import AirbyteTracedException

    from source_personio.permissions import MissingPermissionLogFilter

    def record(message, exc=None):
        return logging.LogRecord("airbyte", logging.ERROR, __file__, 1, message, (), (type(exc), exc, None) if exc else None)

    forbidden = AirbyteTracedException(message="The Personio API credential lacks access to X needed by stream s", failure_type=FailureType.config_error)
    other = AirbyteTracedException(message="Personio had a server error", failure_type=FailureType.transient_error)
    skipped, failed = record("Exception while syncing stream s", forbidden), record("Exception while syncing stream s", other)
    # the 403 traceback line is dropped (PermissionSkippingRead logs "Skipped stream s: ..." instead);
    # any other failure keeps its ERROR line and traceback
    assert MissingPermissionLogFilter().filter(skipped) is False
    assert MissingPermissionLogFilter().filter(failed) is True
    assert failed.levelname == "ERROR" and failed.exc_info
