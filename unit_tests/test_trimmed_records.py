"""trimmed_records.py: one warning per stream when Personio trims v2 records (§10.3)."""

import logging

from source_personio.trimmed_records import WarnTrimmedRecords


def test_trimmed_persons_warn_once_naming_the_missing_fields_and_the_setting(caplog):
    warn = WarnTrimmedRecords(parameters={"name": "persons"}, expected=["first_name", "email", "updated_at"])
    with caplog.at_level(logging.WARNING, logger="airbyte"):
        for i in range(3):
            record = {"id": str(i), "employments": [], "_meta": {}}
            warn.transform(record)
            assert record == {"id": str(i), "employments": [], "_meta": {}}  # emitted as sent
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "persons" in warnings[0] and "first_name, email, updated_at" in warnings[0]
    assert "Settings > Integrations > API credentials" in warnings[0] and "cursor cannot advance" in warnings[0]


def test_complete_records_give_no_warning(caplog):
    warn = WarnTrimmedRecords(parameters={"name": "employments"}, expected=["type"])
    with caplog.at_level(logging.WARNING, logger="airbyte"):
        warn.transform({"id": "1", "type": "INTERNAL"})
    assert not [r for r in caplog.records if r.levelno == logging.WARNING]
