"""Write integration_tests/expected_records.jsonl (CAT's `basic_read.expect_records`) from the sandbox.

    .venv/bin/python scripts/expected_records.py            # (re)write the file
    .venv/bin/python scripts/expected_records.py --check    # exit 1 when the file is not what the sandbox gives

The records come from the bundled sandbox's ground truth (``Sandbox.dataset`` and its v1 lists), started
with the seed and size that acceptance-test-config.yml names for CAT (``--seed 1 --employees 40``), and
the v1 rows stated from the sandbox's generated company in Personio's documented flat form by the helpers
the integration tests use (integration_tests/expected_rows.py): never through the connector's own code.

For every stream the connector discovers (the per-report streams included), the first records by primary
key. The sandbox is deterministic for a seed and size; the one thing that moves with the calendar is how
many compensation months exist up to today, so compensations are taken from the earliest months, which
never change; and v2 records link to the server that served them (``_meta.links``), so links name CAT's
sandbox address (the configs' ``base_url``). CAT compares records of streams with a primary key by their
primary key.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import sys
import urllib.request
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Tuple

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "integration_tests"))

from personio_sandbox.testing import Sandbox  # noqa: E402

import expected_rows  # noqa: E402
from sandbox_helpers import without_nulls  # noqa: E402

OUTPUT = ROOT / "integration_tests" / "expected_records.jsonl"
SEED, EMPLOYEES = 1, 40  # as acceptance-test-config.yml and integration_tests/sample_config.json say
START_DATE = "2020-01-01"  # sample_config.json
CAT_BASE_URL = json.loads((ROOT / "integration_tests" / "sample_config.json").read_text())["base_url"]
PER_STREAM = 3
EMITTED_AT = 1700000000000  # CAT ignores emitted_at; a constant keeps the file stable

Record = Dict[str, Any]


def _v1_get(sandbox: Sandbox, path: str) -> Any:
    """A v1 path as Personio serves it to the default credential (for lists the sandbox has no dataset of)."""
    body = json.dumps({"client_id": sandbox.client_id, "client_secret": sandbox.client_secret}).encode()
    request = urllib.request.Request(sandbox.url + "/v1/auth", data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request) as response:
        token = json.loads(response.read())["data"]["token"]
    request = urllib.request.Request(sandbox.url + path, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request) as response:
        return json.loads(response.read())["data"]


def _months(start: dt.date, end: dt.date) -> Iterable[Tuple[dt.date, dt.date]]:
    first = start.replace(day=1)
    while first <= end:
        following = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
        yield first, following - dt.timedelta(days=1)
        first = following


def report_stream_name(report_name: str) -> str:
    """custom_report_<name>: the report name in lower case, every run of other characters one underscore."""
    return "custom_report_" + re.sub(r"[^a-z0-9]+", "_", report_name.lower()).strip("_")


def ground_truth(sandbox: Sandbox) -> Dict[str, Tuple[Tuple[str, ...], List[Record]]]:
    """stream -> (primary key, every record as a user sees it), from the sandbox alone."""
    d = sandbox.dataset
    company = expected_rows.company(SEED, EMPLOYEES)
    persons = d("/v2/persons")
    periods = d("/v2/absence-periods")
    applications = d("/v2/recruiting/applications")

    truth: Dict[str, Tuple[Tuple[str, ...], List[Record]]] = {
        **{stream: (key, build(company)) for stream, (build, key) in expected_rows.V1_STREAMS.items()},
        "employee_attributes": (("key",), _v1_get(sandbox, "/v1/company/employees/attributes")),
        "attendances": (("id",), d("/v2/attendance-periods")),
        "projects": (("id",), d("/v2/projects")),
        "persons": (("id",), persons),
        "absence_periods": (("id",), periods),
        "legal_entities": (("id",), d("/v2/legal-entities")),
        "cost_centers": (("id",), d("/v2/cost-centers")),
        "workplaces": (("id",), d("/v2/workplaces")),
        "org_units": (("id",), d("/v2/org-units?type=department") + d("/v2/org-units?type=team")),
        "compensation_types": (("id",), d("/v2/compensations/types")),
        "recruiting_candidates": (("id",), d("/v2/recruiting/candidates")),
        "recruiting_applications": (("id",), applications),
        "recruiting_jobs": (("id",), d("/v2/recruiting/jobs")),
        "recruiting_categories": (("id",), d("/v2/recruiting/categories")),
        "employments": (("id",), [m for p in persons for m in d(f"/v2/persons/{p['id']}/employments")]),
        "absence_period_breakdowns": (
            ("absence_period_id", "date"),
            [{**day, "absence_period_id": p["id"]} for p in periods for day in d(f"/v2/absence-periods/{p['id']}/breakdowns")],
        ),
        "recruiting_application_stage_transitions": (
            ("application_id", "entered_at"),
            [
                {**t, "application_id": a["id"]}
                for a in applications
                for t in d(f"/v2/recruiting/applications/{a['id']}/stage-transitions")
            ],
        ),
    }
    # compensations: the earliest months only (later months appear as the calendar moves on)
    first_month = dt.date.fromisoformat(START_DATE)
    compensations: List[Record] = []
    for first, last in _months(first_month, dt.datetime.now(dt.timezone.utc).date()):
        compensations = d(f"/v2/compensations?start_date={first}&end_date={last}")
        if compensations:
            break
    truth["compensations"] = (("id",), compensations)

    for report in company.reports:
        truth[report_stream_name(report["name"])] = (("employee_id", "effective_date"), expected_rows.custom_report_stream(company, report))
    truth.update(_report_v2_truth(sandbox))
    return truth


def _report_v2_truth(sandbox: Sandbox) -> Dict[str, Tuple[Tuple[str, ...], List[Record]]]:
    """reports_v2_list and every report_v2_<name> stream from the sandbox's Report API v2 truth:
    each cell under its column's name, a time range as <name>_from / <name>_to."""
    columns: Dict[str, Dict[str, str]] = {}
    for column in sandbox.truth("report_v2_columns"):
        columns.setdefault(column["report_id"], {})[column["name"]] = column["type"]
    rows: Dict[str, List[Record]] = {}
    for each in sandbox.truth("report_v2_rows"):
        kinds, record = columns[each["report_id"]], {}
        for cell in each["row"]:
            name, kind = cell["attribute_id"], columns[each["report_id"]][cell["attribute_id"]]
            if kind == "TIME_RANGE":
                record[name + "_from"], record[name + "_to"] = cell["time_range_value"]["from"], cell["time_range_value"]["to"]
            else:
                record[name] = {"OPTIONS": lambda c: c["options_value"]["options"], "NUMERIC": lambda c: c["numeric_value"]["number"],
                                "STRING": lambda c: c["string_value"]["value"]}[kind](cell)
        rows.setdefault(each["report_id"], []).append(record)
    listed = sandbox.truth("reports_v2")
    out: Dict[str, Tuple[Tuple[str, ...], List[Record]]] = {"reports_v2_list": (("id",), listed)}
    for report in listed:
        if report["id"] not in columns:  # grouped: not offered
            continue
        key = ("employee_id", "effective_date_from") if report["type"] == "historical_data" else ("employee_id",)
        name = "report_v2_" + re.sub(r"[^a-z0-9]+", "_", report["name"].lower()).strip("_")
        out[name] = (key, rows.get(report["id"], []))
    return out


def _sort_key(primary_key: Tuple[str, ...]) -> Callable[[Record], tuple]:
    return lambda record: tuple((str(type(record[k])), record[k]) for k in primary_key)


def expected_records(sandbox: Sandbox, per_stream: int = PER_STREAM) -> List[Record]:
    lines: List[Record] = []
    for stream, (primary_key, records) in sorted(ground_truth(sandbox).items()):
        if not records:
            raise SystemExit(f"the sandbox has no {stream} records: every stream needs expected records at CAT's high level")
        for record in sorted(records, key=_sort_key(primary_key))[:per_stream]:
            lines.append({"stream": stream, "data": without_nulls(record), "emitted_at": EMITTED_AT})
    return lines


def render(lines: List[Record], served_at: str) -> str:
    """JSON lines; links to the sandbox's own address (v2 `_meta.links`) name the address CAT's sandbox
    listens on (the config's base_url), whichever free port this run's sandbox had."""
    text = "".join(json.dumps(line, sort_keys=True) + "\n" for line in lines)
    return text.replace(served_at.rstrip("/") + "/", CAT_BASE_URL.rstrip("/") + "/")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the file instead of writing it")
    args = parser.parse_args()
    with Sandbox(employees=EMPLOYEES, seed=SEED, rate_limits="off") as sandbox:
        text = render(expected_records(sandbox), sandbox.url)
    if args.check:
        if OUTPUT.read_text() != text:
            print(f"{OUTPUT.relative_to(ROOT)} differs from what the sandbox gives: run scripts/expected_records.py")
            return 1
        print(f"{OUTPUT.relative_to(ROOT)} is up to date")
        return 0
    OUTPUT.write_text(text)
    print(f"wrote {len(text.splitlines())} records to {OUTPUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
