"""Recruiting timestamps that may come wrapped, normalised to one plain UTC string before any cursor sees them.

Personio quirk (§10.5 of the reference, [3P] types, unverified): recruiting applications' and jobs' ``created_at`` /
``updated_at`` and stage transitions' ``entered_at`` may come as ``{"date-time": "2026-10-05T12:00:00+02:00",
"timezone": "Europe/Berlin"}`` instead of the plain ``"2026-10-05T10:00:00Z"`` other tenants send. As an object the
cursor would never advance and the stage transitions' primary key ``[application_id, entered_at]`` would hold an
object. :class:`NormaliseTimestamps` turns both forms into the declared one, UTC ``YYYY-MM-DDTHH:MM:SSZ`` (a
fraction of a second is kept), the format the streams' cursors read and their schemas declare. Transformations run
before the concurrent CDK's cursor observes a record, so state and primary keys see the plain string.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import InitVar, dataclass, field
from typing import Any, Dict, List, Mapping, Optional

from airbyte_cdk.sources.declarative.transformations import RecordTransformation
from airbyte_cdk.sources.types import Config, StreamSlice, StreamState


def plain_utc(value: Any) -> Any:
    """``"…Z"`` for a wrapped ``{"date-time": …}`` or a plain ISO 8601 string with any offset; a value that is no
    timestamp (None, '', text that does not parse, a naive string) is returned as it came."""
    if isinstance(value, Mapping) and "date-time" in value:
        value = value.get("date-time")
    if not isinstance(value, str) or not value:
        return value
    if value.endswith("Z") and len(value) == 20:
        return value  # already the declared form
    try:
        parsed = _dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    if parsed.tzinfo is None:
        return value
    utc = parsed.astimezone(_dt.timezone.utc)
    if utc.microsecond:
        return utc.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return utc.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class NormaliseTimestamps(RecordTransformation):
    """Set each of ``fields`` of a record to :func:`plain_utc` of its value (absent fields stay absent)."""

    parameters: InitVar[Mapping[str, Any]]
    fields: List[str] = field(default_factory=list)

    def transform(
        self,
        record: Dict[str, Any],
        config: Optional[Config] = None,
        stream_state: Optional[StreamState] = None,
        stream_slice: Optional[StreamSlice] = None,
    ) -> None:
        for name in self.fields:
            if name in record:
                record[name] = plain_utc(record[name])


def epoch_seconds(value: Any) -> Optional[int]:
    """Whole seconds since 1970 of a Personio timestamp in any of the forms :func:`plain_utc` reads (plain, with an
    offset, wrapped); a naive ISO string counts as UTC (attendance and absence periods send those). None if the value
    is no timestamp."""
    value = plain_utc(value)
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if text[-1] in "Zz":
        text = text[:-1] + "+00:00"
    try:
        parsed = _dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=_dt.timezone.utc)
    return int(parsed.timestamp() // 1)
