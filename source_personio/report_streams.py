"""Which streams are report streams, and the run-level messages about them (issue 13).

* Personio deprecated the Custom Reports API v1 (final date 2027-06-30, reference §10.1): a read that selects
  v1 report streams, and a check whose credential can read them, log one deprecation warning per run.
* A per-report stream exists only while its report does (and, for v2, while it is enabled for API access,
  ungrouped and readable by the credential): a configured catalog that still names one that is gone is not
  a configuration error of the whole connection; that stream is skipped with a warning.
* A v2 report stream with no columns (a grouped or chart report: HTTP 400 "Unsupported nested type: null")
  is not offered at discover; :class:`source_personio.report_v2.ReportV2ColumnsExtractor` says why.
"""

from __future__ import annotations

from typing import Iterable, Mapping

V1_DEPRECATION_DATE = "2027-06-30"
V1_REPORT_STREAMS = ("custom_reports_list", "custom_reports")
V1_REPORT_PREFIX = "custom_report_"
V2_REPORT_PREFIX = "report_v2_"
PER_REPORT_PREFIXES = (V1_REPORT_PREFIX, V2_REPORT_PREFIX)


def is_v1_report_stream(name: str) -> bool:
    return name in V1_REPORT_STREAMS or name.startswith(V1_REPORT_PREFIX)


def is_per_report_stream(name: str) -> bool:
    """A stream built per report (``custom_report_<name>``, ``report_v2_<name>``); not the list or long tables."""
    return name.startswith(PER_REPORT_PREFIXES) and name not in V1_REPORT_STREAMS


def v1_deprecation_warning(streams: Iterable[str]) -> str:
    """The deprecation line for the v1 report streams among ``streams`` ("" when there are none)."""
    v1 = sorted(name for name in streams if is_v1_report_stream(name))
    if not v1:
        return ""
    return (
        f"Personio switches the Custom Reports API v1 off on {V1_DEPRECATION_DATE}; after that date the v1 report "
        f"streams ({', '.join(v1)}) read nothing. Move to the Report API v2 streams (reports_v2_list, "
        "report_v2_<name>): an administrator enables each report for API access in Personio; see the "
        "connector docs, section 'Moving from v1 to v2 report streams'."
    )


def without_columnless_v2_reports(streams: Iterable[Mapping]) -> list:
    """Discovered streams minus the v2 report streams whose schema has no property (a grouped report)."""
    out = []
    for stream in streams:
        name = getattr(stream, "name", "")
        schema = getattr(stream, "json_schema", None) or {}
        if name.startswith(V2_REPORT_PREFIX) and not (schema.get("properties") or {}):
            continue
        out.append(stream)
    return out
