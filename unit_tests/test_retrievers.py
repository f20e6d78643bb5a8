"""UniquelyNamedReportsRetriever: every page of the list first, then one name per report."""

from airbyte_cdk.sources.declarative.retrievers.retriever import Retriever

from source_personio.retrievers import UniquelyNamedReportsRetriever


class Pages(Retriever):
    def __init__(self, pages):
        self.pages, self.read = pages, 0

    def read_records(self, records_schema, stream_slice=None):
        for page in self.pages:
            self.read += 1
            yield from page


def test_same_names_on_different_pages_still_get_unique_names():
    inner = Pages([[{"id": "bbbbbbbb-2", "name": "Team", "created_at": "2026-02-01"}], [{"id": "aaaaaaaa-1", "name": "Team", "created_at": "2026-01-01"}]])
    retriever = UniquelyNamedReportsRetriever(retriever=inner, config={}, parameters={}, prefix="report_v2_")
    records = list(retriever.read_records({}))
    assert inner.read == 2
    assert {r["id"]: r["stream_name"] for r in records} == {"aaaaaaaa-1": "report_v2_team", "bbbbbbbb-2": "report_v2_team_bbbbbbbb"}


def test_v1_records_are_named_from_their_attributes():
    inner = Pages([[{"type": "Report", "attributes": {"id": "x1", "name": "Payroll", "created_at": "2026-01-01"}}]])
    retriever = UniquelyNamedReportsRetriever(
        retriever=inner, config={}, parameters={}, prefix="custom_report_",
        id_path=["attributes", "id"], name_path=["attributes", "name"], created_path=["attributes", "created_at"],
    )
    assert [r["stream_name"] for r in retriever.read_records({})] == ["custom_report_payroll"]
