"""timestamps.py: wrapped and plain recruiting timestamps become one plain UTC string."""

from source_personio.timestamps import NormaliseTimestamps, plain_utc


def test_wrapped_timestamp_becomes_plain_utc():
    assert plain_utc({"date-time": "2026-10-05T12:00:00+02:00", "timezone": "Europe/Berlin"}) == "2026-10-05T10:00:00Z"


def test_plain_utc_string_stays_and_an_offset_is_converted():
    assert plain_utc("2026-10-05T10:00:00Z") == "2026-10-05T10:00:00Z"
    assert plain_utc("2026-01-05T18:30:00+01:00") == "2026-01-05T17:30:00Z"
    assert plain_utc("2026-01-05T18:30:00.250+01:00") == "2026-01-05T17:30:00.250000Z"


def test_values_that_are_no_zoned_timestamp_are_kept():
    for value in (None, "", "not a date", "2026-01-05T18:30:00", 5):
        assert plain_utc(value) == value


def test_transformation_touches_only_its_fields():
    record = {"entered_at": {"date-time": "2025-09-24T09:19:35+02:00", "timezone": "Europe/Berlin"}, "note": {"date-time": "x"}}
    NormaliseTimestamps(parameters={}, fields=["entered_at", "absent"]).transform(record)
    assert record == {"entered_at": "2025-09-24T07:19:35Z", "note": {"date-time": "x"}}


def test_epoch_seconds_reads_every_timestamp_form_personio_sends():
    from source_personio.timestamps import epoch_seconds

    assert epoch_seconds("2026-10-05T10:00:00Z") == 1791194400
    assert epoch_seconds({"date-time": "2026-10-05T12:00:00+02:00", "timezone": "Europe/Berlin"}) == 1791194400
    assert epoch_seconds("2026-10-05T10:00:00") == 1791194400  # naive: UTC (attendance, absence periods)
    assert epoch_seconds("2026-10-05T10:00:00.750Z") == 1791194400
    assert epoch_seconds(None) is None and epoch_seconds("not a time") is None
