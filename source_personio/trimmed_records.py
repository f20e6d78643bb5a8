"""One warning per stream when Personio trims v2 records to what the credential's allowed attributes permit.

Personio quirk (§10.3 of the reference, [FORUM]): ``/v2/persons`` can come back with only ``id``, ``employments`` and
``_meta``, an employment with only ``id``, ``person``, ``status`` and ``_meta``, when the API credential's allowed
attributes are narrow. Nothing in the response signals it. The records are still emitted as Personio sends them;
:class:`WarnTrimmedRecords` says once per stream which of the fields every untrimmed record carries are missing and
which Personio setting grants them (and that the stream's incremental cursor cannot advance without
``updated_at``).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import InitVar, dataclass, field
from typing import Any, Dict, List, Mapping, Optional

from airbyte_cdk.sources.declarative.transformations import RecordTransformation
from airbyte_cdk.sources.types import Config, StreamSlice, StreamState

SETTING = (
    "Personio > Settings > Integrations > API credentials: edit the credential and allow the attributes it may read "
    "(Personio trims v2 records to them; re-generate the credential if the fields still do not appear)"
)


@dataclass
class WarnTrimmedRecords(RecordTransformation):
    """Log one warning for the first record lacking any of ``expected`` (fields every untrimmed record of the
    stream carries); the record itself is not changed."""

    parameters: InitVar[Mapping[str, Any]]
    expected: List[str] = field(default_factory=list)

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        self._stream = str((parameters or {}).get("name") or "this stream")
        self._warned = False
        self._lock = threading.Lock()

    def missing(self, record: Mapping[str, Any]) -> List[str]:
        return [name for name in self.expected if name not in record]

    def transform(
        self,
        record: Dict[str, Any],
        config: Optional[Config] = None,
        stream_state: Optional[StreamState] = None,
        stream_slice: Optional[StreamSlice] = None,
    ) -> None:
        if self._warned:
            return
        missing = self.missing(record)
        if not missing:
            return
        with self._lock:
            if self._warned:
                return
            self._warned = True
        cursor = (
            " Without updated_at the stream's incremental cursor cannot advance, so every sync reads all of its records."
            if "updated_at" in missing
            else ""
        )
        logging.getLogger("airbyte").warning(
            f"Stream {self._stream}: Personio returns its records without {', '.join(missing)} -- the API credential "
            f"may not read these attributes, so Personio leaves them out. The records are synced with the fields "
            f"Personio sends.{cursor} To get them: {SETTING}."
        )
