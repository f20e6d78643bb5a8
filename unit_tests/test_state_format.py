"""ColonOffsetStateConverter: a datetime_format with %:z writes the UTC offset as +01:00 on every Python."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from airbyte_cdk.models import AirbyteStateBlob, AirbyteStateMessage, AirbyteStateType, AirbyteStreamState, StreamDescriptor
from airbyte_cdk.sources.streams.concurrent.state_converters.datetime_stream_state_converter import (
    CustomFormatConcurrentStreamStateConverter,
)

from source_personio.source import SourcePersonio
from source_personio.state_format import ColonOffsetStateConverter, offset_with_colon, with_colon_offsets

CET = timezone(timedelta(hours=1))


def _converter(datetime_format: str) -> ColonOffsetStateConverter:
    return ColonOffsetStateConverter(datetime_format=datetime_format, input_datetime_formats=["%Y-%m-%dT%H:%M:%S%z"])


@pytest.mark.parametrize(
    "moment, written",
    [
        (datetime(2026, 10, 19, 14, 1, 55, tzinfo=CET), "2026-10-19T14:01:55+01:00"),
        (datetime(2026, 7, 1, 9, 0, 0, tzinfo=timezone(timedelta(hours=2))), "2026-07-01T09:00:00+02:00"),
        (datetime(2026, 1, 1, 0, 0, 0, tzinfo=timezone.utc), "2026-01-01T00:00:00+00:00"),
        (datetime(2026, 1, 1, 0, 0, 0, tzinfo=timezone(-timedelta(hours=5, minutes=30))), "2026-01-01T00:00:00-05:30"),
    ],
)
def test_colon_offset_is_written_with_a_colon(moment, written):
    assert _converter("%Y-%m-%dT%H:%M:%S%:z").output_format(moment) == written


def test_offset_with_seconds_keeps_them():
    assert offset_with_colon(datetime(2026, 1, 1, tzinfo=timezone(timedelta(hours=1, seconds=30)))) == "+01:00:30"


def test_naive_datetime_has_no_offset():
    assert offset_with_colon(datetime(2026, 1, 1)) == ""


def test_format_without_colon_offset_is_the_cdks():
    moment = datetime(2026, 10, 31, 23, 57, 7, tzinfo=CET)
    assert _converter("%Y-%m-%dT%H:%M:%S%z").output_format(moment) == "2026-10-31T23:57:07+0100"


@pytest.mark.parametrize("saved", ["2026-10-19T14:01:55+0100", "2026-10-19T14:01:55+01:00"])
def test_states_in_either_notation_are_read(saved):
    # states saved by 0.1.0 say +0100; from now on +01:00
    assert _converter("%Y-%m-%dT%H:%M:%S%:z").parse_timestamp(saved) == datetime(2026, 10, 19, 13, 1, 55, tzinfo=timezone.utc)


def test_only_the_cdks_converter_with_colon_offset_is_replaced():
    class Cursor:
        pass

    colon, plain = Cursor(), Cursor()
    colon._connector_state_converter = CustomFormatConcurrentStreamStateConverter(datetime_format="%Y-%m-%dT%H:%M:%S%:z")
    plain._connector_state_converter = CustomFormatConcurrentStreamStateConverter(datetime_format="%Y-%m-%dT%H:%M:%SZ")
    assert type(with_colon_offsets(colon)._connector_state_converter) is ColonOffsetStateConverter
    assert type(with_colon_offsets(plain)._connector_state_converter) is CustomFormatConcurrentStreamStateConverter
    assert with_colon_offsets(None) is None


def test_employees_state_from_0_1_0_is_rewritten_with_a_colon(config):
    """A state saved as +0100 by 0.1.0 is continued, and the next state says +01:00 (same instant)."""
    saved = [
        AirbyteStateMessage(
            type=AirbyteStateType.STREAM,
            stream=AirbyteStreamState(
                stream_descriptor=StreamDescriptor(name="employees"),
                stream_state=AirbyteStateBlob(last_modified_at="2026-10-19T14:01:55+0100"),
            ),
        )
    ]
    source = SourcePersonio(config=config, state=saved)
    employees = next(s for s in source.streams(config) if s.name == "employees")
    cursor = employees.cursor
    assert type(cursor._connector_state_converter) is ColonOffsetStateConverter
    # the sync starts one day (lookback) before the saved state, written like the records
    assert next(iter(cursor.stream_slices()))["start_time"] == "2026-10-18T14:01:55+01:00"
    assert cursor.state == {"last_modified_at": "2026-10-19T14:01:55+01:00"}
