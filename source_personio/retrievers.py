"""Retrievers: what the declarative ``SimpleRetriever`` cannot do on its own."""

from __future__ import annotations

from dataclasses import InitVar, dataclass, field
from typing import Any, Iterable, List, Mapping, Optional

from airbyte_cdk.sources.declarative.retrievers.retriever import Retriever
from airbyte_cdk.sources.types import Config, StreamSlice

from source_personio.stream_names import dig, report_stream_names


@dataclass
class UniquelyNamedReportsRetriever(Retriever):
    """The whole report list of a per-report ``HttpComponentsResolver``, each record with its ``stream_name``.

    Personio quirk: report names are free text, may repeat and may have no Latin letter (see
    :mod:`source_personio.stream_names`). A stream name computed per record in the manifest's components
    mapping cannot see the other reports, so two same-named reports gave two streams of one name and the CDK
    failed the whole discover. This retriever reads every page of the list first (the wrapped
    ``retriever``), names all reports together and then hands them to the resolver, whose mapping uses
    ``components_values['stream_name']``.
    ``id_path`` / ``name_path`` / ``created_path`` locate a report's fields in a list record
    (v1: ``attributes.id``; v2: ``id``).
    """

    retriever: Retriever
    config: Config
    parameters: InitVar[Mapping[str, Any]]
    prefix: str = "report_"
    id_path: List[str] = field(default_factory=lambda: ["id"])
    name_path: List[str] = field(default_factory=lambda: ["name"])
    created_path: List[str] = field(default_factory=lambda: ["created_at"])

    def read_records(self, records_schema: Mapping[str, Any], stream_slice: Optional[StreamSlice] = None) -> Iterable[Any]:
        records = []
        for record in self.retriever.read_records(records_schema=records_schema, stream_slice=stream_slice):
            if isinstance(record, Mapping):
                records.append(dict(record))
            else:  # log messages and the like pass through
                yield record
        names = report_stream_names(
            self.prefix,
            ((dig(r, self.id_path), dig(r, self.name_path), dig(r, self.created_path)) for r in records),
        )
        for record in records:
            record["stream_name"] = names[str(dig(record, self.id_path))]
            yield record
