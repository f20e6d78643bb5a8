"""``check``: prove the credentials and list every stream this credential or company cannot read, and why.

Personio quirks (§10.2 of the reference): a missing right or module answers 401, 400, 404 or 412 as often as
403, so a refusal says nothing about the credentials as long as the token endpoint accepted them. ``check``
therefore fails only when the credentials are wrong (the token endpoint rejects them, raised by the
authenticator as a config error) or when nothing at all is readable; otherwise it succeeds and names each
unreadable stream with the module or right that is missing (the streams are skipped with one warning each at
read time). A 401 counts as a missing right only when another endpoint of the same API version accepts the same
token; if none does, the token itself is refused and check fails.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Tuple

import requests

from airbyte_cdk.models import FailureType
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_personio.config import backoff_wait, retry_backoff_seconds
from source_personio.permissions import SETTINGS, Unreadable, classify, error_detail, missing_right_401

# One cheap request per endpoint a stream starts from: (api version, path, query, streams that read it,
# what a 403 means is missing). Substreams are listed with their parent (employments read the persons list).
CHECK_PROBES: Tuple[Tuple[str, str, Mapping[str, Any], str, str], ...] = (
    ("v1", "/v1/company/employees", {"limit": 1, "offset": 0}, "employees, employees_absences_balance", "employee data (Employees: read)"),
    ("v1", "/v1/company/employees/attributes", {}, "employee_attributes", "employee data (Employees: read)"),
    ("v1", "/v1/company/time-off-types", {"limit": 1, "offset": 0}, "absence_types", "absences (Absences: read)"),
    ("v1", "/v1/company/time-offs", {"limit": 1, "offset": 1}, "absences", "absences (Absences: read)"),
    ("v1", "/v1/company/document-categories", {}, "document_categories", "documents (Documents: read)"),
    (
        "v1",
        "/v1/company/custom-reports/reports",
        {},
        "custom_reports_list, custom_reports, every custom_report_<name> stream",
        "custom reports (Custom reports: read)",
    ),
    ("v2", "/v2/persons", {"limit": 1}, "persons, employments", "the scope personio:persons:read"),
    ("v2", "/v2/absence-periods", {"limit": 1}, "absence_periods, absence_period_breakdowns", "the scope personio:absences:read"),
    ("v2", "/v2/attendance-periods", {"limit": 1}, "attendances", "attendance periods (no scope is named in Personio's files)"),
    ("v2", "/v2/projects", {"limit": 1}, "projects", "projects (no scope is named in Personio's files)"),
    ("v2", "/v2/legal-entities", {"limit": 1}, "legal_entities", "legal entities (no scope is named in Personio's files)"),
    ("v2", "/v2/org-units", {"limit": 1, "type": "department"}, "org_units", "org units (no scope is named in Personio's files)"),
    ("v2", "/v2/cost-centers", {"limit": 1}, "cost_centers", "cost centers (no scope is named in Personio's files)"),
    ("v2", "/v2/workplaces", {"limit": 1}, "workplaces", "workplaces (no scope is named in Personio's files)"),
    ("v2", "/v2/compensations/types", {"limit": 1}, "compensations, compensation_types", "the scope personio:compensations:read"),
    ("v2", "/v2/recruiting/candidates", {"limit": 1}, "recruiting_candidates", "the scope personio:recruiting:read"),
    (
        "v2",
        "/v2/recruiting/applications",
        {"limit": 1},
        "recruiting_applications, recruiting_application_stage_transitions",
        "the scope personio:recruiting:read",
    ),
    ("v2", "/v2/recruiting/jobs", {"limit": 1}, "recruiting_jobs", "the scope personio:recruiting:read"),
    ("v2", "/v2/recruiting/categories", {"limit": 1}, "recruiting_categories", "the scope personio:recruiting:read"),
    # Report API v2: without the reports right Personio answers 400 "Unauthorized token" (section 10.2)
    ("v2", "/v2/reports", {"limit": 1}, "reports_v2_list, every report_v2_<name> stream", "the reports right (Report API v2)"),
)

# The streams no probe above names, and why check does not ask for them (unit_tests/test_access_check.py holds
# this table and CHECK_PROBES against the manifest's streams).
# Keyed by stream; each of these reads its own endpoint once per parent record, so a probe would need a parent id
# (one more request per stream) -- its parent's list is probed, and a refusal at read time skips the stream with
# one warning naming what is missing (permissions.PermissionSkippingRead).
_PER_PARENT = "read once per {parent} from {path}; check probes the {parent} list only (a probe of its own would need a {parent} id)"
NOT_PROBED: Mapping[str, str] = {
    "custom_reports": _PER_PARENT.format(parent="report", path="/v1/company/custom-reports/reports/{id}"),
    "employees_absences_balance": _PER_PARENT.format(parent="employee", path="/v1/company/employees/{id}/absences/balance"),
    "employments": _PER_PARENT.format(parent="person", path="/v2/persons/{id}/employments"),
    "absence_period_breakdowns": _PER_PARENT.format(parent="absence period", path="/v2/absence-periods/{id}/breakdowns"),
    "recruiting_application_stage_transitions": _PER_PARENT.format(
        parent="application", path="/v2/recruiting/applications/{id}/stage-transitions"
    ),
    "compensations": "read from /v2/compensations, whose filters need a month: check probes /v2/compensations/types "
    "with the same scope (personio:compensations:read)",
}


def probed_streams(streams: str) -> List[str]:
    """The stream names in a probe's ``streams`` text (without the ``every custom_report_<name> stream`` phrases)."""
    return [name.strip() for name in streams.split(",") if name.strip() and not name.strip().startswith("every ")]


@dataclass
class CheckResult:
    """What the probes found: ``unreadable`` (streams, reason) per refused probe, ``failures`` (anything else
    that went wrong), ``readable`` (how many probes answered)."""

    unreadable: List[Tuple[str, Unreadable]] = field(default_factory=list)
    failures: List[str] = field(default_factory=list)
    readable: int = 0

    @property
    def nothing_readable(self) -> bool:
        return self.readable == 0

    def unreadable_text(self) -> str:
        return "; ".join(f"{streams}: {reason.explain()}" for streams, reason in self.unreadable)


def run_probes(config: Mapping[str, Any], logger: logging.Logger, authenticators: Mapping[str, Any], base_url: str,
               personio_headers: Mapping[str, str]) -> CheckResult:
    """One request per probe (retrying 429/5xx and re-minting the token once on a 401)."""
    result = CheckResult()
    refused_401: Dict[str, List[Tuple[str, str, str]]] = {}
    readable_by_version: Dict[str, int] = {}
    session = requests.Session()
    backoff = min(retry_backoff_seconds(config), 5)  # check answers within a form's patience
    for version, path, params, streams, what in CHECK_PROBES:
        authenticator = authenticators[version]
        response: Optional[requests.Response] = None
        problem = ""
        refreshed = False
        for attempt in range(4):
            if attempt and not refreshed:
                time.sleep(backoff_wait(backoff, attempt))
            refreshed = False
            headers = {"Accept": "application/json", **personio_headers, **authenticator.get_auth_header()}
            try:
                response = session.get(f"{base_url}{path}", params=params, headers=headers, timeout=60)
            except requests.RequestException as exc:
                response, problem = None, f"could not reach {base_url} ({type(exc).__name__})"
                continue
            if response.status_code == 401 and attempt == 0:
                authenticator.refresh_and_set_access_token()  # wrong credentials raise a config error here
                refreshed = True  # ask again at once with the new token
                continue
            if response.status_code == 429 or response.status_code >= 500:
                problem = f"HTTP {response.status_code}"
                continue
            break
        if response is None or response.status_code == 429 or response.status_code >= 500:
            result.failures.append(f"GET {path}: {problem}.")
            continue
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code == 401:
            refused_401.setdefault(version, []).append((path, streams, error_detail(body)))
            continue
        if response.status_code == 403:
            result.unreadable.append((streams, Unreadable("right", f"the API credential lacks access to {what}",
                                                           f"grant it in {SETTINGS}", 403, path, error_detail(body))))
            continue
        unreadable = classify(response.status_code, body, path)
        if unreadable is not None:
            result.unreadable.append((streams, unreadable))
        elif not response.ok:
            result.failures.append(f"GET {path} answered HTTP {response.status_code}{_colon(error_detail(body))}.")
        elif isinstance(body, dict) and body.get("success") is False:
            result.failures.append(f"GET {path} answered success=false{_colon(error_detail(body))}.")
        else:
            logger.info(f"check: GET {path} OK")
            result.readable += 1
            readable_by_version[version] = readable_by_version.get(version, 0) + 1
    for version, refused in refused_401.items():
        if not readable_by_version.get(version):
            # no endpoint of this version accepts the token: it is the token, not a right
            raise AirbyteTracedException(
                message=f"Personio rejected the {version} access token on every {version} endpoint (HTTP 401 on "
                f"{', '.join('GET ' + p for p, _s, _d in refused)}) although it accepted the client_id/client_secret. "
                f"Check the API credential in {SETTINGS}.",
                failure_type=FailureType.config_error,
            )
        for path, streams, detail in refused:
            result.unreadable.append((streams, missing_right_401(path, detail)))
    return result


def _colon(text: str) -> str:
    return f": {text}" if text else ""
