"""transformations.py: Personio's v1 records made flat (FlattenAttributes, KeepOnlyV1Id) and the partition's id
added without a Jinja template per record (AddPartitionField)."""

from __future__ import annotations

import copy

import pytest
from airbyte_cdk.sources.declarative.transformations.add_fields import AddFields, AddedFieldDefinition
from airbyte_cdk.sources.types import StreamSlice

from source_personio.transformations import AddPartitionField, FlattenAttributes, KeepOnlyV1Id


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


VALUES = [7, -3, 0, "7", "a1b2-c3", "app 12", "", "'quoted'", '"x"', "it's", None, True, 1.5, "None", "  9", {"id": 1}]


def _add_fields(value_type):
    return AddFields(
        fields=[AddedFieldDefinition(path=["parent_id"], value="{{ stream_partition.parent_id }}", value_type=value_type, parameters={})],
        parameters={},
    )


@pytest.mark.parametrize("value_type, python_type", [("string", str), ("integer", int)])
@pytest.mark.parametrize("value", VALUES)
def test_the_partition_value_is_added_as_add_fields_adds_it(value_type, python_type, value):
    stream_slice = StreamSlice(partition={"parent_id": value}, cursor_slice={"start_time": "2026-01-01"})
    expected, actual = {"id": 1}, {"id": 1}
    _add_fields(python_type).transform(expected, config={}, stream_slice=stream_slice)
    AddPartitionField(field="parent_id", partition_field="parent_id", value_type=value_type, parameters={}).transform(
        actual, config={}, stream_slice=stream_slice
    )
    assert actual == expected
    assert type(actual["parent_id"]) is type(expected["parent_id"])


@pytest.mark.parametrize("stream_slice", [None, StreamSlice(partition={}, cursor_slice={})])
def test_a_slice_without_the_key_gets_what_add_fields_gives(stream_slice):
    expected, actual = {"id": 1}, {"id": 1}
    _add_fields(str).transform(expected, config={}, stream_slice=stream_slice)
    AddPartitionField(field="parent_id", partition_field="parent_id", parameters={}).transform(actual, config={}, stream_slice=stream_slice)
    assert actual == expected


def test_ids_stay_strings_when_they_look_like_numbers():
    record = {}
    AddPartitionField(field="application_id", partition_field="application_id", parameters={}).transform(
        record, stream_slice=StreamSlice(partition={"application_id": 123}, cursor_slice={})
    )
    assert record == {"application_id": "123"}


def test_an_unknown_value_type_is_refused():
    with pytest.raises(ValueError):
        AddPartitionField(field="x", partition_field="x", value_type="number", parameters={})


EMPLOYEE = {
    "type": "Employee",
    "attributes": {
        "id": {"label": "ID", "value": 17, "type": "integer", "universal_id": "id"},
        "first_name": {"label": "First name", "value": "Ann", "type": "standard", "universal_id": "first_name"},
        "department": {"label": "Department", "value": {"type": "Department", "attributes": {"id": 3, "name": "IT"}}, "type": "standard"},
    },
}

RECORDS = [
    EMPLOYEE,
    {"type": "Employee", "attributes": {"id": 5, "first_name": "Bo"}},
    {"type": "Employee", "id": 9, "attributes": {"first_name": "Cy"}},
    {"id": {"label": "ID", "value": 4}, "name": "flat"},
    {"type": "Employee", "attributes": {"first_name": "no id"}},
    {"name": "no id either"},
]


@pytest.mark.parametrize("record", RECORDS)
def test_the_id_is_the_one_flatten_gives(record):
    flattened, kept = copy.deepcopy(record), copy.deepcopy(record)
    FlattenAttributes().transform(flattened)
    KeepOnlyV1Id().transform(kept)
    assert kept == ({"id": flattened["id"]} if "id" in flattened else {})


def test_only_the_id_is_kept():
    record = copy.deepcopy(EMPLOYEE)
    KeepOnlyV1Id().transform(record)
    assert record == {"id": 17}


def test_fix_salary_currency_is_a_column_beside_the_amount():
    record = {"type": "Employee", "attributes": {
        "id": {"label": "ID", "value": 7, "type": "integer", "universal_id": "id"},
        "fix_salary": {"label": "Salary", "value": 52000, "currency": "GBP", "type": "decimal", "universal_id": "fix_salary"},
        "hourly_salary": {"label": "Hourly", "value": 0, "currency": "EUR", "type": "decimal", "universal_id": "hourly_salary"},
    }}
    FlattenAttributes().transform(record)
    assert record == {"id": 7, "fix_salary": 52000, "fix_salary_currency": "GBP", "hourly_salary": 0, "hourly_salary_currency": "EUR"}


def test_attributes_without_currency_get_no_currency_column():
    record = {"type": "Employee", "attributes": {"first_name": {"label": "First", "value": "Ann", "type": "standard", "universal_id": "first_name"}}}
    FlattenAttributes().transform(record)
    assert record == {"first_name": "Ann"}
