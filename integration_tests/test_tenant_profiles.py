"""Every real Personio account works: for each sandbox tenant profile, ``check`` and a full read of
every discovered stream through the ``source-personio`` command line.

For each profile (``full``, ``small_business``, ``narrow``, ``shapes``) the tests assert check's status and message,
which streams are skipped with which single warning, and that every other stream equals the sandbox's ground
truth (``/_sandbox/truth``, computed from its data model for the credential the tenant gives; which streams are
unreadable comes from the sandbox's ``unavailable`` answers). The expected rows are the truth records in the
connector's documented table shape, stated in ``expected_rows`` (v1 records field by field per stream; custom
report rows from the tenant's generated company; wrapped recruiting timestamps as plain UTC), never through the
connector's code.

A per-profile outcome table (stream -> records / skipped / warning) is written to
``$TMPDIR/source-personio-tenant-outcomes.json`` for the issue's closing note.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any, Dict, List, Optional

import jsonschema
import pytest

from personio_sandbox.testing import Sandbox

import expected_rows
from expected_rows import utc_z
from sandbox_helpers import Cli, by_key, full_refresh_catalog, personio_status, without_nulls, write

EMPLOYEES, SEED = 8, 1
PROFILES = ("full", "small_business", "narrow", "shapes")
START_DATE = "2020-01-01"
OUTCOMES = Path(tempfile.gettempdir()) / "source-personio-tenant-outcomes.json"

# the truth resource of each stream where it is not named like the stream
TRUTH_OF = {"custom_reports": "custom_report_rows", "reports_v2_list": "reports_v2"}
# per-report streams (v1 and v2): compared report by report, v2 ones in test_reports_v2.py
PER_REPORT = ("custom_report_", "report_v2_")
# the words a skipped stream's warning uses for each answer a missing module or right gets (§10.2)
REASON_WORDS = {
    404: "no Recruiting module",
    412: "legal entities feature is not available",
    401: "lacks the Persons right",
    400: "reports right",
    403: "lacks access to custom reports",
}
# warnings that are not a skipped stream: (profile the warning belongs to, pattern)
EXPECTED_OTHER_WARNINGS = {
    "narrow": [
        r"^Stream persons: Personio returns its records without first_name, last_name, email, created_at, updated_at ",
        r"^Stream employments: Personio returns its records without employment_start_date, type, position, created_at, updated_at ",
        # the CDK's own line for the persons parent of employments, whose trimmed records have no updated_at
        r"^Could not find cursor field `updated_at` in record for stream persons",
    ],
    "shapes": [r"^Skipped custom report [0-9a-f-]+ in stream custom_reports: Personio does not serve this custom report"],
}


class Run:
    """check, discover and a full read of every discovered stream for one tenant profile."""

    def __init__(self, profile: str, tmp: Path):
        self.profile = profile
        log_path = os.path.join(tempfile.gettempdir(), f"source-personio-it-tenant-{profile}-{os.getpid()}.log")
        self.sandbox = Sandbox(employees=EMPLOYEES, seed=SEED, rate_limits="off", tenant=profile, log_path=log_path)
        self.sandbox.__enter__()
        overrides: Dict[str, Any] = {"retry_backoff_seconds": 0.1, "start_date": START_DATE}
        if profile == "shapes":
            # Discover fails on this tenant only because two reports share a name and two have no Latin letter
            # (per-report stream naming is another change: test_shapes_discover_with_report_streams_succeeds);
            # the report rows are still read and checked through the custom_reports stream.
            overrides["custom_report_streams"] = False
        self.config = self.sandbox.config(**overrides)
        config_path = write(tmp / "config.json", self.config)
        self.check = Cli(["check", "--config", config_path])
        self.discover = Cli(["discover", "--config", config_path])
        catalogs = self.discover.of("CATALOG")
        assert catalogs, (self.discover.errors, self.discover.stderr[-2000:])
        self.streams = catalogs[0]["catalog"]["streams"]
        self.schemas = {s["name"]: s["json_schema"] for s in self.streams}
        self.sandbox.reset_stats()
        self.read = Cli(["read", "--config", config_path, "--catalog", write(tmp / "catalog.json", full_refresh_catalog(self.streams))])
        self.read_stats = self.sandbox.stats()
        self.records = self.read.records()

    def close(self) -> None:
        self.sandbox.__exit__(None, None, None)

    # ---------------------------------------------------------------- ground truth
    def truth(self, resource: str, **query: Any) -> List[Dict[str, Any]]:
        return self.sandbox.truth(resource, **query)

    def unavailable(self, stream: str) -> Optional[Dict[str, Any]]:
        if stream.startswith("custom_report_"):
            return self.sandbox.truth_unavailable("custom_reports_list")
        if stream.startswith("report_v2_"):
            return self.sandbox.truth_unavailable("reports_v2")
        return self.sandbox.truth_unavailable(TRUTH_OF.get(stream, stream))

    def company(self):
        """The tenant's generated company (nothing changes this sandbox)."""
        return expected_rows.company(SEED, EMPLOYEES, self.profile)


@pytest.fixture(scope="module", params=PROFILES)
def run(request, tmp_path_factory):
    profile_run = Run(request.param, tmp_path_factory.mktemp(request.param))
    yield profile_run
    _record_outcomes(profile_run)
    profile_run.close()


# ------------------------------------------------------------------ expected rows from the truth


def with_plain_times(record: Dict[str, Any], *fields: str) -> Dict[str, Any]:
    return {k: (utc_z(v) if k in fields else v) for k, v in record.items()}


def last_day_of_this_month() -> str:
    today = dt.datetime.now(dt.timezone.utc).date()
    nxt = (today.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return str(nxt - dt.timedelta(days=1))


def expected(run: Run, stream: str) -> Dict[tuple, Dict[str, Any]]:
    """The rows a full read of ``stream`` must give, by primary key."""
    v1 = {"employees", "absence_types", "absences", "document_categories", "custom_reports_list"}
    if stream in v1:
        return by_key([expected_rows.v1_row_from_wire(stream, r) for r in run.truth(stream)], "id")
    if stream == "employee_attributes":
        return by_key(run.truth(stream), "key")
    if stream == "employees_absences_balance":
        return by_key(run.truth(stream), "employee_id", "id")
    if stream == "absence_period_breakdowns":
        return by_key(run.truth(stream), "absence_period_id", "date")
    if stream == "compensations":
        return by_key(run.truth(stream, start_date=START_DATE, end_date=last_day_of_this_month()), "id")
    if stream in ("recruiting_applications", "recruiting_jobs"):
        return by_key([with_plain_times(r, "created_at", "updated_at") for r in run.truth(stream)], "id")
    if stream == "recruiting_application_stage_transitions":
        return by_key([with_plain_times(r, "entered_at") for r in run.truth(stream)], "application_id", "entered_at")
    if stream == "custom_reports":
        served = {r["id"] for r in served_reports(run)}
        rows = [r for r in expected_rows.custom_reports(run.company()) if r["report_id"] in served]
        return by_key(rows, "report_id", "employee_id", "effective_date")
    return by_key(run.truth(stream), "id")


def served_reports(run: Run) -> List[Dict[str, Any]]:
    """The custom reports whose rows Personio serves (an archived report's rows answer 400)."""
    reports = [r["attributes"] for r in run.truth("custom_reports_list")]
    return [r for r in reports if personio_status(run.sandbox, f"/v1/company/custom-reports/reports/{r['id']}") == 200]


def wide_report_rows(run: Run, report: Dict[str, Any]) -> Dict[tuple, Dict[str, Any]]:
    """The rows of one ``custom_report_<name>`` stream (expected_rows.custom_report_stream)."""
    generated = next(r for r in run.company().reports if r["id"] == report["id"])
    return by_key(expected_rows.custom_report_stream(run.company(), generated), "employee_id", "effective_date")


def primary_key(run: Run, stream: str) -> List[str]:
    entry = next(s for s in run.streams if s["name"] == stream)
    return [path[0] for path in entry["source_defined_primary_key"]]


def skipped_warnings(run: Run) -> Dict[str, List[str]]:
    out: Dict[str, List[str]] = {}
    for line in run.read.logs("WARN"):
        found = re.match(r"^Skipped stream (\S+): ", line)
        if found:
            out.setdefault(found.group(1), []).append(line)
    return out


def expected_unreadable(run: Run) -> Dict[str, int]:
    """stream -> the status the sandbox says its credential gets, for every discovered stream it can not read."""
    out = {}
    for stream in run.schemas:
        gone = run.unavailable(stream)
        if gone:
            out[stream] = gone["status"]
    return out


def _record_outcomes(run: Run) -> None:
    try:
        table = json.loads(OUTCOMES.read_text()) if OUTCOMES.exists() else {}
    except ValueError:
        table = {}
    skipped = skipped_warnings(run)
    table[run.profile] = {
        "check": [m["connectionStatus"]["status"] for m in run.check.of("CONNECTION_STATUS")],
        "streams": {
            name: ("skipped: " + skipped[name][0][:160]) if name in skipped else f"{len(run.records.get(name, []))} records"
            for name in sorted(run.schemas)
        },
        "other_warnings": [w[:200] for w in run.read.logs("WARN") if not w.startswith("Skipped stream ")],
    }
    OUTCOMES.write_text(json.dumps(table, indent=1, ensure_ascii=False))


# ------------------------------------------------------------------ the tests


def test_check_succeeds_and_names_exactly_the_streams_this_tenant_cannot_read(run):
    statuses = [m["connectionStatus"] for m in run.check.of("CONNECTION_STATUS")]
    assert len(statuses) == 1, run.check.stderr[-2000:]
    status = statuses[0]
    assert status["status"] == "SUCCEEDED", status.get("message")
    unreadable = expected_unreadable(run)
    message = status.get("message") or ""
    if not unreadable:
        assert not message, message
        return
    listed = message.split("cannot read", 1)[1]
    named = set(re.findall(r"\b[a-z][a-z0-9_]+\b", listed))
    for stream, http_status in unreadable.items():
        if not stream.startswith(PER_REPORT):
            assert stream in named, f"check does not name {stream}: {message}"
        assert f"HTTP {http_status}" in message
    for stream in set(run.schemas) - set(unreadable):
        assert stream not in named, f"check names the readable stream {stream}: {message}"
    assert run.sandbox.client_secret not in message


def test_read_skips_each_unreadable_stream_with_one_warning_naming_the_module_or_right(run):
    assert run.read.returncode == 0, (run.read.errors, run.read.stderr[-2000:])
    assert not run.read.errors, [e["message"] for e in run.read.errors]
    unreadable = expected_unreadable(run)
    skipped = skipped_warnings(run)
    assert set(skipped) == set(unreadable)
    for stream, lines in skipped.items():
        assert len(lines) == 1, lines
        assert REASON_WORDS[unreadable[stream]] in lines[0], lines[0]
        assert "Personio > Settings" in lines[0] or "book" in lines[0] or "deselect" in lines[0], lines[0]
        assert not run.records.get(stream)
    # no ERROR line and no other warning than the ones this profile is known for
    assert not run.read.logs("ERROR"), run.read.logs("ERROR")[:3]
    patterns = EXPECTED_OTHER_WARNINGS.get(run.profile, []) + [r"Custom Reports API v1 .*2027-06-30"]
    others = [w for w in run.read.logs("WARN") if not w.startswith("Skipped stream ")]
    for line in others:
        assert any(re.search(p, line) for p in patterns), f"unexpected warning: {line[:300]}"
    for pattern in patterns[:2] if run.profile == "narrow" else patterns:
        assert sum(1 for w in others if re.search(pattern, w)) == 1, (pattern, others)


def test_every_readable_stream_equals_the_sandbox_truth(run):
    unreadable = expected_unreadable(run)
    checked = []
    for stream in sorted(run.schemas):
        if stream in unreadable or stream.startswith(PER_REPORT) or stream == "reports_v2_list":
            continue
        want = expected(run, stream)
        got = by_key(run.records.get(stream, []), *primary_key(run, stream))
        assert got.keys() == want.keys(), f"{stream}: missing {sorted(want.keys() - got.keys())[:3]}, extra {sorted(got.keys() - want.keys())[:3]}"
        for key, row in want.items():
            assert got[key] == without_nulls(row), (stream, key)
        checked.append(stream)
    assert len(checked) >= 15


def test_each_custom_report_stream_equals_one_served_report(run):
    streams = [s for s in run.schemas if s.startswith("custom_report_")]
    if run.profile in ("small_business", "shapes"):
        # small_business: no reports right, so no report streams; shapes: custom_report_streams off (see Run)
        assert not streams
        return
    reports = served_reports(run)
    assert len(streams) == len(reports)
    unmatched = [wide_report_rows(run, r) for r in reports]
    for stream in streams:
        got = by_key(run.records.get(stream, []), "employee_id", "effective_date")
        assert got in unmatched, f"{stream} equals no report's rows"
        unmatched.remove(got)
    assert not unmatched


def test_every_record_matches_its_discovered_schema(run):
    for stream, records in run.records.items():
        validator = jsonschema.Draft7Validator(run.schemas[stream])
        for record in records:
            errors = list(validator.iter_errors(record))
            assert not errors, f"{run.profile} {stream}: {errors[0].message} at {list(errors[0].absolute_path)}"


def test_every_request_of_a_full_read_is_answered_or_refused_only_by_the_tenant_gates(run):
    """No request of the read is rejected for its form (400 on a filter): the only 4xx answers are the
    tenant's gates on unreadable streams and an archived report's 400."""
    statuses = run.read_stats["statuses"]
    unexpected = {k: v for k, v in statuses.items() if str(k).startswith("4")}
    allowed = set(expected_unreadable(run).values()) | ({400} if run.profile == "shapes" else set())
    assert {int(k) for k in unexpected} <= allowed, statuses



def shapes_discover_with_report_streams(tmp_path) -> Cli:
    with Sandbox(employees=4, seed=11, rate_limits="off", tenant="shapes") as sb:
        return Cli(["discover", "--config", write(tmp_path / "config.json", sb.config())])


def test_shapes_discover_with_report_streams_succeeds(tmp_path):
    """Same-named, archived and non-Latin reports (section 10.5) discover: every per-report stream name is unique."""
    cli = shapes_discover_with_report_streams(tmp_path)
    assert cli.of("CATALOG"), [e["message"] for e in cli.errors]
    names = [s["name"] for s in cli.of("CATALOG")[0]["catalog"]["streams"]]
    assert len(names) == len(set(names)) and all(n.isascii() for n in names), names


# (stream, field path) Personio sends on the shapes tenant (§10.5) that the discovered schemas must declare
SHAPE_FIELDS = [
    ("absences", ("id_v2",)),
    ("absence_types", ("id_v2",)),
    ("employees", ("fix_salary_currency",)),
    ("projects", ("client_name",)),
    ("projects", ("billable",)),
    ("projects", ("cost_center",)),
    ("projects", ("start",)),
    ("employments", ("termination", "last_working_date")),
    ("employments", ("termination", "termination_type")),
    ("employments", ("termination", "termination_reason")),
]


def declared(schema: Dict[str, Any], path: tuple) -> bool:
    for name in path:
        schema = (schema.get("properties") or {}).get(name)
        if schema is None:
            return False
    return bool(schema.get("type"))


def value_at(record: Dict[str, Any], path: tuple) -> Any:
    for name in path:
        record = record.get(name) if isinstance(record, dict) else None
    return record


def test_id_v2_salary_currency_project_and_termination_fields_are_declared_and_read(run):
    for stream, path in SHAPE_FIELDS:
        if path == ("fix_salary_currency",) and "fix_salary" not in run.schemas[stream]["properties"]:
            continue  # a credential that may not read fix_salary (narrow) gets neither column
        assert declared(run.schemas[stream], path), f"{stream} does not declare {'.'.join(path)}"
    if run.profile != "shapes":
        return
    truth_of = {"employments": run.truth("employments"), "projects": run.truth("projects")}
    for stream, path in SHAPE_FIELDS:
        assert any(value_at(r, path) is not None for r in run.records[stream]), f"no {stream} record has {'.'.join(path)}"
        if stream in truth_of:
            assert sorted(str(value_at(r, path)) for r in run.records[stream]) == sorted(
                str(value_at(r, path)) for r in truth_of[stream]), (stream, path)
    # a quarter of the people are paid in pounds: the currency tells them apart
    assert {r.get("fix_salary_currency") for r in run.records["employees"]} == {"EUR", "GBP"}
    # the values are the truth's, read beside the amount
    truth = {e["attributes"]["id"]["value"]: e["attributes"]["fix_salary"]["currency"] for e in run.truth("employees")}
    assert {r["id"]: r["fix_salary_currency"] for r in run.records["employees"]} == truth


def test_exclusive_absence_ends_pending_rejected_attendance_and_untyped_custom_attributes_read(run):
    description = run.schemas["absence_periods"]["properties"]["ends_at"].get("description", "")
    assert "exclusive" in description and "day after the last absent day" in description
    statuses = run.schemas["attendances"]["properties"]["approval"]["properties"]["status"].get("description", "")
    assert all(s in statuses for s in ("PENDING", "CONFIRMED", "REJECTED"))
    if run.profile != "shapes":
        return
    assert {r["approval"]["status"] for r in run.records["attendances"]} == {"PENDING", "CONFIRMED", "REJECTED"}
    values = [a.get("value") for p in run.records["persons"] for a in p.get("custom_attributes") or []]
    assert any(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
    assert not any("label" in a for p in run.records["persons"] for a in p.get("custom_attributes") or [])
