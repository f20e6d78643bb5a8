"""CompiledSchemaNormalization: the same values and warnings as the CDK's TypeTransformer walk."""

import copy
import logging

import pytest

from airbyte_cdk.sources.utils.transform import TypeTransformer
from source_personio.normalization import BlankObjectsToNull, CoerceEmployeeWireQuirks

EMPLOYEE_SCHEMA = {
    "$schema": "https://json-schema.org/draft-07/schema#",
    "type": "object",
    "additionalProperties": True,
    "properties": {
        "id": {"type": ["null", "integer"]},
        "first_name": {"type": ["null", "string"]},
        "hire_date": {"type": ["null", "string"], "format": "date-time"},
        "supervisor": {"type": ["null", "object"]},
        "cost_centers": {"type": ["null", "array"], "items": {"type": ["null", "object"]}},
        "fix_salary": {"type": ["null", "number"]},
        "dynamic_103": {"type": ["null", "integer"]},
        "dynamic_106": {"type": ["null", "array"], "items": {"type": ["null", "string"]}},
        "dynamic_110": {"type": ["null", "boolean"]},
        "weekly_working_hours": {"type": ["null", "string"]},
    },
}

ABSENCE_SCHEMA = {
    "type": "object",
    "required": ["id"],
    "properties": {
        "id": {"type": "integer"},
        "half_day_start": {"type": ["null", "boolean", "integer"]},
        "days_count": {"type": ["null", "number"]},
        "certificate": {"type": ["null", "object"], "properties": {"status": {"type": ["null", "string"]}}},
        "time_off_type": {
            "type": ["null", "object"],
            "properties": {"id": {"type": ["null", "integer"]}, "name": {"type": ["null", "string"]}},
        },
        "employee": {
            "type": ["null", "object"],
            "properties": {
                "id": {"type": ["null", "integer"]},
                "department": {"type": ["null", "object"]},
                "cost_centers": {"type": ["null", "array"], "items": {"type": "object"}},
            },
        },
    },
}

EMPLOYEE_ROWS = [
    {"id": 1, "first_name": "Ann", "hire_date": "2020-01-01T00:00:00+01:00", "supervisor": {"id": 2}, "cost_centers": [{"id": 1}]},
    # the wire quirks: 0/1 booleans, blank entities, tags as one string, numbers as strings
    {"id": "2", "first_name": 7, "supervisor": "", "cost_centers": "", "fix_salary": "10.5", "dynamic_103": "3",
     "dynamic_106": "English, German", "dynamic_110": 1, "weekly_working_hours": 40},
    {"id": 3, "supervisor": [], "dynamic_106": '["a", "b"]', "dynamic_110": "0", "fix_salary": None, "extra": "kept"},
    # values no coercion can fix: warnings, value kept
    {"id": "x", "supervisor": "nobody", "cost_centers": [1, "", None], "dynamic_110": "maybe", "dynamic_106": 5},
    {"id": None, "first_name": None, "dynamic_106": "", "cost_centers": [{"id": 1}, ""]},
]

ABSENCE_ROWS = [
    {"id": 1, "half_day_start": 0, "days_count": 1.5, "certificate": {"status": "not-required"}, "time_off_type": {"id": 3, "name": "Vacation"}},
    {"id": 2, "certificate": "", "time_off_type": "", "employee": {"id": 4, "department": "", "cost_centers": ""}},
    {"id": 3, "employee": {"id": "4", "department": "x", "cost_centers": ["", {"id": 1}]}, "days_count": "2"},
    {"id": "4", "half_day_start": "true", "certificate": {"status": 1}, "employee": ""},
    {"id": 5.0, "days_count": True, "employee": None},
]


def _normalize_both(normalization, schema, row, caplog):
    """(record, warnings) from the CDK's TypeTransformer walk and from the compiled plan."""
    results = []
    for transform in (lambda r: TypeTransformer.transform(normalization, r, schema), lambda r: normalization.transform(r, schema)):
        record = copy.deepcopy(row)
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="airbyte"):
            transform(record)
        results.append((record, [r.getMessage() for r in caplog.records]))
    return results


@pytest.mark.parametrize("row", EMPLOYEE_ROWS)
def test_employee_coercion_changes_the_same_values_and_warns_the_same_as_type_transformer(row, caplog):
    (expected, expected_warnings), (actual, warnings) = _normalize_both(CoerceEmployeeWireQuirks(), EMPLOYEE_SCHEMA, row, caplog)
    assert actual == expected
    assert {k: type(v) for k, v in actual.items()} == {k: type(v) for k, v in expected.items()}
    assert warnings == expected_warnings


@pytest.mark.parametrize("row", ABSENCE_ROWS)
def test_blank_objects_to_null_changes_the_same_values_and_warns_the_same_as_type_transformer(row, caplog):
    (expected, expected_warnings), (actual, warnings) = _normalize_both(BlankObjectsToNull(), ABSENCE_SCHEMA, row, caplog)
    assert actual == expected
    assert warnings == expected_warnings


def test_values_of_the_wrong_type_are_logged_with_their_path(caplog):
    record = {"id": "x", "employee": {"id": 1, "cost_centers": [{"id": 1}, 7]}}
    with caplog.at_level(logging.WARNING, logger="airbyte"):
        BlankObjectsToNull().transform(record, ABSENCE_SCHEMA)
    messages = [r.getMessage() for r in caplog.records]
    assert "Failed to transform value from type 'string' to type 'integer' at path: 'id'" in messages
    assert "Failed to transform value from type 'integer' to type 'object' at path: 'employee.cost_centers.1'" in messages


def test_blank_entities_become_null_and_real_empty_strings_stay():
    record = {"id": 1, "certificate": "", "employee": {"department": "", "cost_centers": ""}}
    BlankObjectsToNull().transform(record, ABSENCE_SCHEMA)
    assert record == {"id": 1, "certificate": None, "employee": {"department": None, "cost_centers": None}}


def test_a_schema_with_a_ref_falls_back_to_the_cdk_walk():
    schema = {
        "definitions": {"entity": {"type": ["null", "object"]}},
        "type": "object",
        "properties": {"department": {"$ref": "#/definitions/entity"}, "team": {"type": ["null", "object"]}},
    }
    normalization = BlankObjectsToNull()
    record = {"department": "", "team": ""}
    normalization.transform(record, schema)
    assert record == {"department": "", "team": None}  # what TypeTransformer does: the $ref'd schema has no type here
    assert normalization._plan(schema) is None


def test_the_plan_is_built_once_per_schema():
    normalization = CoerceEmployeeWireQuirks()
    for row in EMPLOYEE_ROWS:
        normalization.transform(copy.deepcopy(row), EMPLOYEE_SCHEMA)
    assert len(normalization._plans) == 1


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
