"""SourcePersonio: the declarative manifest plus a check that names missing permissions."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any, Iterator, List, Mapping, Optional

import requests

from airbyte_cdk.models import (
    AirbyteCatalog,
    AirbyteConnectionStatus,
    AirbyteMessage,
    AirbyteStateMessage,
    ConfiguredAirbyteCatalog,
    Status,
)
from airbyte_cdk.sources.declarative.yaml_declarative_source import YamlDeclarativeSource
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_personio.components import (
    PersonioTokenAuthenticator,
    personio_headers,
    validate_base_url,
    validate_config,
)

MANIFEST_PATH = Path(__file__).resolve().parent / "manifest.yaml"

# One cheap request per resource the streams read: (api version, path, query, what to grant).
CHECK_PROBES = (
    ("v1", "/v1/company/employees", {"limit": 1, "offset": 0}, "employees (read access to employee data)"),
    ("v1", "/v1/company/time-off-types", {"limit": 1, "offset": 0}, "absence types"),
    ("v1", "/v1/company/time-offs", {"limit": 1, "offset": 1}, "absences (time-offs)"),
    ("v1", "/v1/company/document-categories", {}, "document categories"),
    ("v1", "/v1/company/custom-reports/reports", {}, "custom reports"),
    ("v2", "/v2/attendance-periods", {"limit": 1}, "scope personio:attendances:read"),
    ("v2", "/v2/projects", {"limit": 1}, "scope personio:projects:read"),
)


class SourcePersonio(YamlDeclarativeSource):
    """Personio source. The manifest is always the one shipped in this package, by absolute path,
    so a stray ``manifest.yaml`` in the working directory can never replace it."""

    def __init__(
        self,
        catalog: Optional[ConfiguredAirbyteCatalog] = None,
        config: Optional[Mapping[str, Any]] = None,
        state: Optional[List[AirbyteStateMessage]] = None,
    ) -> None:
        super().__init__(path_to_yaml=str(MANIFEST_PATH), catalog=catalog, config=config, state=state)

    def check(self, logger: logging.Logger, config: Mapping[str, Any]) -> AirbyteConnectionStatus:
        """Prove the credentials for v1 and v2 and name every permission or scope that is missing."""
        try:
            validate_config(config)
            problems = run_check_probes(config, logger)
        except AirbyteTracedException as error:
            return AirbyteConnectionStatus(status=Status.FAILED, message=error.message)
        if problems:
            return AirbyteConnectionStatus(status=Status.FAILED, message=" ".join(problems))
        return AirbyteConnectionStatus(status=Status.SUCCEEDED)

    def discover(self, logger: logging.Logger, config: Mapping[str, Any]) -> AirbyteCatalog:
        validate_config(config)
        return super().discover(logger, config)

    def read(
        self,
        logger: logging.Logger,
        config: Mapping[str, Any],
        catalog: ConfiguredAirbyteCatalog,
        state: Optional[List[AirbyteStateMessage]] = None,
    ) -> Iterator[AirbyteMessage]:
        validate_config(config)
        yield from super().read(logger, config, catalog, state)


def run_check_probes(config: Mapping[str, Any], logger: logging.Logger) -> List[str]:
    """Return a list of human-readable problems; raise a config error when the credentials are rejected."""
    base_url = validate_base_url(config.get("base_url"))
    authenticators = {
        version: PersonioTokenAuthenticator(config=config, parameters={}, api_version=version, max_attempts=3)
        for version in ("v1", "v2")
    }
    missing: List[str] = []
    other: List[str] = []
    session = requests.Session()
    for version, path, params, what in CHECK_PROBES:
        authenticator = authenticators[version]
        response = None
        for attempt in range(4):
            if attempt:
                time.sleep(min(float(config.get("retry_backoff_seconds", 2)), 5) * 2 ** (attempt - 1))
            headers = {"Accept": "application/json", **personio_headers(config), **authenticator.get_auth_header()}
            try:
                response = session.get(f"{base_url}{path}", params=params, headers=headers, timeout=60)
            except requests.RequestException as exc:
                response = None
                problem = f"could not reach {base_url} ({type(exc).__name__})"
                continue
            if response.status_code == 401 and attempt == 0:
                authenticator.refresh_and_set_access_token()
                continue
            if response.status_code == 429 or response.status_code >= 500:
                problem = f"HTTP {response.status_code}"
                continue
            break
        if response is None:
            other.append(f"GET {path}: {problem}.")
            continue
        if response.status_code == 403:
            missing.append(f"{what} (GET {path}{_detail(response)})")
        elif response.status_code == 401:
            raise AirbyteTracedException(
                message=f"Personio rejected the {version} access token on GET {path} (HTTP 401). "
                "Check the API credential in Personio > Settings > Integrations > API credentials.",
                failure_type=__import__("airbyte_cdk.models", fromlist=["FailureType"]).FailureType.config_error,
            )
        elif not response.ok:
            other.append(f"GET {path} answered HTTP {response.status_code}{_detail(response)}.")
        else:
            try:
                body = response.json()
            except ValueError:
                body = None
            if isinstance(body, dict) and body.get("success") is False:
                other.append(f"GET {path} answered success=false{_detail(response)}.")
            else:
                logger.info(f"check: GET {path} OK")
    problems = []
    if missing:
        problems.append(
            "The Personio API credential lacks access to: " + "; ".join(missing) + ". Grant these in Personio > "
            "Settings > Integrations > API credentials (v1 resources and attributes, v2 scopes)."
        )
    problems.extend(other)
    return problems


def _detail(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    detail = None
    if isinstance(body, dict):
        if isinstance(body.get("error"), dict):
            detail = body["error"].get("message")
        elif isinstance(body.get("errors"), list) and body["errors"]:
            first = body["errors"][0] or {}
            detail = first.get("detail") or first.get("details") or first.get("title")
        elif body.get("message"):
            detail = body.get("message")
    elif isinstance(body, list) and body and isinstance(body[0], dict):
        errors = body[0].get("errors") or [{}]
        detail = errors[0].get("details") or errors[0].get("title")
    return f": {str(detail)[:200]}" if detail else ""
