"""What this credential or tenant cannot read, told apart from every other failure (§10.2 of the reference).

Personio quirk: a missing right or module is often not a 403. On tenants without the module or a credential
without the right, Personio answers

* ``404`` ``{"detail": "The endpoint with /v2/recruiting/jobs was not found.", "type": "…#apinot_found"}`` on the
  recruiting lists (module not booked) -- unlike the ``common.resource_not_found`` 404 of a vanished record;
* ``412`` on ``/v2/legal-entities`` (feature not available);
* ``400`` "Unauthorized token" on ``/v2/reports`` (no reports right);
* ``401`` "Unauthorized Request" on ``/v2/persons`` (no persons right) although the token is valid -- told apart
  from wrong credentials because the token endpoint accepted them and the CDK's refreshed token is refused too;
* ``400`` on the rows of an archived v1 custom report (one report, not the stream).

:func:`classify` turns such an answer into an :class:`Unreadable` whose text a Personio administrator can act on;
:class:`UnreadableResourceErrorHandler` makes the manifest's requests fail with it (the stream is then skipped
with one warning by ``components.PermissionSkippingRead``) or, for an archived report, skip that report with a
warning.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import InitVar, dataclass
from typing import Any, Mapping, Optional, Union
from urllib.parse import urlsplit

import requests

from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.streams.http.error_handlers import ErrorHandler
from airbyte_cdk.sources.streams.http.error_handlers.response_models import ErrorResolution, ResponseAction
from airbyte_cdk.sources.types import Config

# Every message of a stream this credential or tenant cannot read contains this (see is_unreadable).
UNREADABLE_MARKER = "cannot be read:"
SETTINGS = "Personio > Settings > Integrations > API credentials"

# path prefix -> (what is missing, how to get it)
MODULES = {
    "/v2/recruiting": ("your Personio plan has no Recruiting module", "book Recruiting in Personio or deselect the stream"),
    "/v2/legal-entities": (
        "the legal entities feature is not available for this Personio company",
        "deselect the stream (Personio enables the feature per company)",
    ),
}
RIGHTS = {
    "/v2/persons": (
        "the API credential lacks the Persons right or attribute access",
        f"grant read access to persons (and their attributes) in {SETTINGS}",
    ),
    "/v2/reports": (
        "the API credential has no access to reports (the reports right)",
        f"grant it in {SETTINGS} and ask an administrator to enable the reports for API access",
    ),
}


@dataclass(frozen=True)
class Unreadable:
    """Why one endpoint is not served to this credential: ``kind`` is ``module``, ``right`` or ``report``."""

    kind: str
    what: str
    fix: str
    status: int
    path: str
    detail: str = ""

    def explain(self) -> str:
        detail = f': "{self.detail}"' if self.detail else ""
        return f"{self.what} (Personio answered HTTP {self.status} on GET {self.path}{detail}); {self.fix}"


def error_detail(body: Any) -> str:
    """The first error text of a v2 problem+json, v1 or custom-reports error body ('' if none)."""
    if isinstance(body, list) and body and isinstance(body[0], Mapping):
        body = body[0]
    if not isinstance(body, Mapping):
        return ""
    errors = body.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], Mapping):
        return str(errors[0].get("detail") or errors[0].get("details") or errors[0].get("title") or "")[:200]
    if isinstance(body.get("error"), Mapping):
        return str(body["error"].get("message") or "")[:200]
    return str(body.get("detail") or body.get("message") or "")[:200]


def _error_type(body: Any) -> str:
    errors = body.get("errors") if isinstance(body, Mapping) else None
    if isinstance(errors, list) and errors and isinstance(errors[0], Mapping):
        return str(errors[0].get("type") or "")
    return str(body.get("type") or "") if isinstance(body, Mapping) else ""


def _prefix(path: str, table: Mapping[str, Any]) -> Optional[str]:
    return next((p for p in table if path == p or path.startswith(p + "/") or path.startswith(p + "?")), None)


def api_path(url: str) -> str:
    """``/v2/recruiting/jobs`` from a request URL (base URL prefixes such as a proxy path are kept out)."""
    path = urlsplit(url or "").path
    for marker in ("/v1/", "/v2/"):
        if marker in path:
            return path[path.index(marker):]
    return path


def classify(status: int, body: Any, path: str) -> Optional[Unreadable]:
    """The :class:`Unreadable` for Personio's answer ``status``/``body`` on ``path``, or None for any other answer
    (a 401 is classified by :func:`missing_right_401`, once the token is known to be valid)."""
    detail = error_detail(body)
    if status == 404 and (_error_type(body).endswith("apinot_found") or detail.startswith("The endpoint with")):
        prefix = _prefix(path, MODULES)
        what, fix = MODULES[prefix] if prefix else (
            f"your Personio plan does not include the module serving {path}", "book it in Personio or deselect the stream")
        return Unreadable("module", what, fix, status, path, detail)
    if status == 412:
        prefix = _prefix(path, MODULES)
        what, fix = MODULES[prefix] if prefix else (
            f"Personio does not offer {path} for this company", "deselect the stream")
        return Unreadable("module", what, fix, status, path, detail)
    if status == 400 and detail == "Unauthorized token":
        prefix = _prefix(path, RIGHTS)
        what, fix = RIGHTS[prefix] if prefix else (f"the API credential has no right to read {path}", f"grant it in {SETTINGS}")
        return Unreadable("right", what, fix, status, path, detail)
    if status == 400 and path.startswith("/v1/company/custom-reports/reports/"):
        return Unreadable(
            "report",
            "Personio does not serve this custom report (it answers 400 for archived reports)",
            "restore the report in Personio to sync it again",
            status,
            path,
            detail,
        )
    return None


def missing_right_401(path: str, detail: str = "") -> Unreadable:
    """A 401 on ``path`` while the credential's token is valid (the token endpoint accepted the credentials and
    other endpoints accept the token): a missing right, not wrong credentials."""
    prefix = _prefix(path, RIGHTS)
    what, fix = RIGHTS[prefix] if prefix else (f"the API credential has no right to read {path}", f"grant it in {SETTINGS}")
    return Unreadable("right", what, fix, 401, path, detail or "Unauthorized Request")


def stream_message(stream: str, unreadable: Unreadable) -> str:
    """The error text of a stream this credential or tenant cannot read (recognised by :func:`is_unreadable`)."""
    return f"Stream {stream} {UNREADABLE_MARKER} {unreadable.explain()}."


def is_unreadable(message: Any) -> bool:
    return UNREADABLE_MARKER in str(message or "")


@dataclass
class UnreadableResourceErrorHandler(ErrorHandler):
    """Wraps the manifest's error handler: an answer :func:`classify` recognises fails the request with a config
    error naming the missing module or right (the stream is skipped, see ``PermissionSkippingRead``); the 400 of
    an archived custom report skips that report with one warning and the stream goes on. Every other answer is the
    wrapped handler's to interpret (a vanished record's 404, 429, 5xx ...)."""

    error_handler: ErrorHandler
    config: Config
    parameters: InitVar[Mapping[str, Any]]

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        self._stream = str((parameters or {}).get("name") or "this stream")
        self._warned: set = set()  # report paths warned about by this stream
        self._warned_lock = threading.Lock()

    @property
    def max_retries(self) -> Optional[int]:
        return self.error_handler.max_retries

    @property
    def max_time(self) -> Optional[int]:
        return self.error_handler.max_time

    @property
    def backoff_strategies(self) -> Any:
        return getattr(self.error_handler, "backoff_strategies", None)

    def __getattr__(self, name: str) -> Any:
        if name == "error_handler":
            raise AttributeError(name)
        return getattr(self.error_handler, name)

    def interpret_response(self, response_or_exception: Optional[Union[requests.Response, Exception]] = None) -> ErrorResolution:
        response = response_or_exception
        if isinstance(response, requests.Response) and response.status_code in (400, 404, 412):
            try:
                body = response.json()
            except Exception:
                body = None
            unreadable = classify(response.status_code, body, api_path(response.url))
            if unreadable is not None and unreadable.kind == "report":
                self._warn_report_once(unreadable)
                return ErrorResolution(ResponseAction.IGNORE, None, f"skipped the custom report at {unreadable.path}")
            if unreadable is not None:
                return ErrorResolution(ResponseAction.FAIL, FailureType.config_error, stream_message(self._stream, unreadable))
        return self.error_handler.interpret_response(response_or_exception)

    def _warn_report_once(self, unreadable: Unreadable) -> None:
        with self._warned_lock:
            if unreadable.path in self._warned:
                return
            self._warned.add(unreadable.path)
        report_id = unreadable.path.rsplit("/", 1)[-1]
        logging.getLogger("airbyte").warning(
            f"Skipped custom report {report_id} in stream {self._stream}: {unreadable.explain()}. "
            "The stream's other reports are synced."
        )
