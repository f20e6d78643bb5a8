"""AddPartitionField: the record gets exactly what AddFields with "{{ stream_partition.<key> }}" gives it."""

import pytest

from airbyte_cdk.sources.declarative.transformations.add_fields import AddedFieldDefinition, AddFields
from airbyte_cdk.sources.types import StreamSlice
from source_personio.transformations import AddPartitionField

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
