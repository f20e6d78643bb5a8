"""v1 salary attributes keep their currency in a column beside the amount (§10.5)."""

from source_personio.transformations import FlattenAttributes


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
