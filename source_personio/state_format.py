"""State cursors written with a colon in the UTC offset (``+01:00``), as Personio writes them.

Personio's v1 API writes offsets two ways: employees' ``last_modified_at`` as
``2026-10-19T14:01:55+01:00``, time-offs' ``updated_at`` as ``2026-10-31T23:57:07+0100``. The CDK
writes a ``DatetimeBasedCursor``'s state with ``strftime(datetime_format)``, whose ``%z`` gives
``+0100``; the colon form ``%:z`` is a strftime directive only from Python 3.12 on, and the
connector image runs Python 3.11, where ``%:z`` comes out literally. So the employees' state would
not read like the employees' records (same instant, another string).

The manifest says what it means -- ``datetime_format: "%Y-%m-%dT%H:%M:%S%:z"`` (Python 3.12's
spelling) -- and :class:`ColonOffsetStateConverter` renders ``%:z`` on every Python. Parsing needs
nothing: ``%z`` (listed in ``cursor_datetime_formats``) reads both forms.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from airbyte_cdk.sources.streams.concurrent.state_converters.datetime_stream_state_converter import (
    CustomFormatConcurrentStreamStateConverter,
)

COLON_OFFSET = "%:z"


def offset_with_colon(timestamp: datetime) -> str:
    """``+01:00`` for a UTC offset of one hour, ``+00:00`` for UTC, '' for a naive datetime."""
    offset = timestamp.strftime("%z")  # +HHMM, or +HHMMSS for offsets with seconds
    if not offset:
        return ""
    return ":".join([offset[:3], offset[3:5]] + ([offset[5:]] if len(offset) > 5 else []))


class ColonOffsetStateConverter(CustomFormatConcurrentStreamStateConverter):
    """The CDK's state converter for a ``DatetimeBasedCursor``, with ``%:z`` in ``datetime_format``
    written as ``+HH:MM`` (see the module docstring). Everything else is the CDK's."""

    def output_format(self, timestamp: datetime) -> str:
        if COLON_OFFSET not in self._datetime_format:
            return super().output_format(timestamp)
        offset = offset_with_colon(timestamp)
        return self._parser.format(timestamp, self._datetime_format.replace(COLON_OFFSET, offset))


def with_colon_offsets(cursor: Any) -> Any:
    """``cursor`` with its state converter a :class:`ColonOffsetStateConverter` when it is the CDK's
    converter and its ``datetime_format`` asks for ``%:z``; any other cursor is returned unchanged.
    Only the converter's class changes (its formats and settings stay as the CDK set them). Installed by
    ``cdk_adaptations.PersonioComponentFactory`` (adaptation ``colon_offset_state``)."""
    converter = getattr(cursor, "_connector_state_converter", None)
    if type(converter) is CustomFormatConcurrentStreamStateConverter and COLON_OFFSET in getattr(
        converter, "_datetime_format", ""
    ):
        converter.__class__ = ColonOffsetStateConverter
    return cursor
