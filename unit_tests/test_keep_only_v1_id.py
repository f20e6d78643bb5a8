"""KeepOnlyV1Id: a parent record becomes {"id": ...} with the id FlattenAttributes would give it."""

import copy

import pytest

from source_personio.transformations import FlattenAttributes
from source_personio.transformations import KeepOnlyV1Id

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
