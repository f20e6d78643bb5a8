"""extractors.py: Personio's envelopes and custom-report rows read from the body parsed once."""

from __future__ import annotations

import copy
import json

import requests

from source_personio.extractors import CustomReportColumnsExtractor, CustomReportRowsExtractor, parse_json_once


BODY = {
    "success": True,
    "data": [
        {
            "type": "Report",
            "attributes": {
                "id": "r1",
                "type": "historical_data",
                "items": [
                    {
                        "employee_id": 4,
                        "historical_attributes": [
                            {"attribute_id": "first_name", "data_type": "TEXT", "value": "Ann", "employee_id": 4, "effective_date": "2024-01-01"},
                            {"attribute_id": "cost_center", "data_type": "COST_CENTER", "cost_centers": [{"id": 1, "percentage": 100}], "employee_id": 4, "effective_date": "2024-01-01"},
                            {"attribute_id": "first_name", "data_type": "TEXT", "value": "Anna", "employee_id": 4, "effective_date": "2024-06-01"},
                        ],
                    }
                ],
            },
        }
    ],
}


def _response():
    response = requests.Response()
    response.status_code = 200
    response._content = json.dumps(BODY).encode()
    return parse_json_once(response)


def test_rows_come_from_the_once_parsed_body_which_stays_as_served():
    response = _response()
    parsed = response.json()
    rows = list(CustomReportRowsExtractor(config={}, parameters={}).extract_records(response))
    assert [(r["effective_date"], len(r["attributes"])) for r in rows] == [("2024-01-01", 2), ("2024-06-01", 1)]
    rows[0]["attributes"][0]["value"] = "changed downstream"
    rows[0]["report_id"] = "changed"
    assert response.json() is parsed and parsed == BODY


def test_wide_rows_leave_the_body_as_served():
    response = _response()
    wide = list(CustomReportColumnsExtractor(config={}, parameters={}).extract_records(response))
    assert wide[0] == {"employee_id": 4, "effective_date": "2024-01-01", "first_name": "Ann", "cost_center": {"cost_centers": [{"id": 1, "percentage": 100}]}}
    wide[0]["first_name"] = "changed"
    assert response.json() == copy.deepcopy(BODY)


def test_a_body_that_is_not_json_has_no_rows():
    response = requests.Response()
    response.status_code = 200
    response._content = b'{"data": [{"type": "Report"'
    assert list(CustomReportRowsExtractor(config={}, parameters={}).extract_records(parse_json_once(response))) == []


def response(body) -> requests.Response:
    r = requests.Response()
    r.status_code = 200
    r._content = json.dumps(body).encode()
    return r


# ---------------------------------------------------------------- FlattenAttributes


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
