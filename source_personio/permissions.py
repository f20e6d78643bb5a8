"""Permissions: what this credential or tenant cannot read, told apart from every other failure, and skipped.

CDK default replaced: a stream whose requests fail ends the sync with an error, whatever the cause. Personio
grants v1 attributes and v2 scopes one by one and tenants book modules one by one, so a refusal on one resource
says nothing about the others: such a stream is skipped with one warning naming what is missing
(:class:`PermissionSkippingRead`, :class:`MissingPermissionLogFilter`) and the rest of the sync goes on
(§10.2 of the reference).

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
with one warning by :class:`PermissionSkippingRead`) or, for an archived report, skip that report with a
warning.
"""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass
from typing import Any, Dict, Iterable, Mapping, Optional, Union
from urllib.parse import urlsplit

import requests

from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.streams.http.error_handlers.response_models import ErrorResolution, ResponseAction
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_personio.error_handling import WrappingErrorHandler

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
class UnreadableResourceErrorHandler(WrappingErrorHandler):
    """Wraps the manifest's error handler: an answer :func:`classify` recognises fails the request with a config
    error naming the missing module or right (the stream is skipped, see ``PermissionSkippingRead``); the 400 of
    an archived custom report skips that report with one warning and the stream goes on. Every other answer is the
    wrapped handler's to interpret (a vanished record's 404, 429, 5xx ...)."""

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        self._stream = str((parameters or {}).get("name") or "this stream")
        self._warned: set = set()  # report paths warned about by this stream
        self._warned_lock = threading.Lock()

    def answer(self, response_or_exception: Optional[Union[requests.Response, Exception]]) -> Optional[ErrorResolution]:
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
        return None

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


# -- skipping a stream this credential or tenant cannot read ------------------------------------

# Every 403 error of the manifest's error handler says "... lacks access to <permission> needed by
# stream <name> ...": the marker tells a missing scope/permission from any other failure. The other
# answers of a missing module or right (404 apinot_found, 412, 400 "Unauthorized token") carry
# UNREADABLE_MARKER; a 401 refused again after a successful token refresh is a missing right.
PERMISSION_MARKER = "lacks access to"
REFUSED_AFTER_REFRESH = "again after the OAuth token was refreshed"


def _refused_after_refresh(error: Any) -> Optional[str]:
    """The URL of a request Personio refused with 401 although the token had just been re-minted (the token
    endpoint accepted the credentials), from the CDK's error; None for any other error."""
    internal = str(getattr(error, "internal_message", None) or "")
    if REFUSED_AFTER_REFRESH not in internal or "status code '401'" not in internal:
        return None
    found = re.search(r"request to '([^']+)'", internal)
    return found.group(1) if found else ""


def unreadable_stream_message(error: Any, stream: str) -> Optional[str]:
    """The message to skip ``stream`` with if ``error`` (an exception or a trace error) only says that this
    credential or tenant cannot read it; None for any other failure."""
    message = str(getattr(error, "message", None) or "")
    failure_type = getattr(error, "failure_type", None)
    if failure_type not in (FailureType.config_error, "config_error"):
        return None
    if PERMISSION_MARKER in message or is_unreadable(message):
        return message
    url = _refused_after_refresh(error)
    if url is not None:
        return stream_message(stream, missing_right_401(api_path(url)))
    return None


def is_missing_permission(error: Any) -> bool:
    """True for an error that only says this credential or tenant cannot read the stream (an exception or a
    trace error message): HTTP 403, a module not booked, a right missing."""
    return unreadable_stream_message(error, "") is not None


class MissingPermissionLogFilter:
    """Drop the CDK's ``Exception while syncing stream X`` (ERROR + traceback) when the exception only says
    that the credential or tenant cannot read the stream (:class:`PermissionSkippingRead` logs ``Skipped
    stream X: <which scope, right or module is missing>`` instead), and lower the CDK's line for the refused
    request to INFO, so each skipped stream has exactly one warning.

    Personio quirk: a credential grants v1 attributes and v2 scopes one by one, and tenants book modules
    one by one, so a refusal on one resource says nothing about the others; :class:`PermissionSkippingRead`
    lets the rest of the sync go on and this filter keeps the log honest about what was skipped and why.
    """

    def filter(self, record: Any) -> bool:
        exception = record.exc_info[1] if record.exc_info else None
        if exception is not None and is_missing_permission(exception):
            # PermissionSkippingRead says "Skipped stream X: ..." in the message stream itself
            # (independent of which logging handlers exist), so the CDK's traceback line goes.
            return False
        if record.levelno >= 30:
            text = str(record.msg)
            if (
                "failed with status code '403'" in text
                or (is_unreadable(text) and "request to" in text)
                or ("status code '412'" in text and "request to" in text)
                or ("status code '404'" in text and "apinot_found" in text)
                or ("status code '400'" in text and "Unauthorized token" in text)
                or (REFUSED_AFTER_REFRESH in text and "status code '401'" in text)
            ):
                # the CDK's own line for the refused request: part of the skip, not a sync error
                record.levelno, record.levelname = 20, "INFO"
        return True


class PermissionSkippingRead:
    """Wrap a source's read messages: a stream that fails only because the credential or tenant cannot read
    it (HTTP 403, a module not booked, a right missing: see :func:`classify`) is skipped -- its error trace is
    replaced by one WARN log naming what is missing -- and the sync ends successfully if nothing else failed.
    Any other failure still fails the sync as before. If every selected stream is skipped, the read fails
    with one config error.
    """

    def __init__(self, logger: Any, selected_streams: Iterable[str] = ()) -> None:
        self.logger = logger
        self.selected_streams = set(selected_streams)
        self.skipped: Dict[str, str] = {}
        self.other_failures = False

    def wrap(self, messages: Iterable[Any]) -> Iterable[Any]:
        from airbyte_cdk.models import AirbyteLogMessage, AirbyteMessage, Level, TraceType, Type

        try:
            for message in messages:
                trace = message.trace if message.type == Type.TRACE else None
                if trace is not None and trace.type == TraceType.ERROR and trace.error is not None:
                    descriptor = trace.error.stream_descriptor
                    reason = unreadable_stream_message(trace.error, descriptor.name) if descriptor is not None else None
                    if reason is not None:
                        if descriptor.name not in self.skipped:
                            self.skipped[descriptor.name] = reason
                            yield AirbyteMessage(
                                type=Type.LOG,
                                log=AirbyteLogMessage(level=Level.WARN, message=f"Skipped stream {descriptor.name}: {reason}"),
                            )
                        continue
                    self.other_failures = True
                yield message
        except AirbyteTracedException as error:
            # the CDK's closing "streams did not sync successfully" error: swallowed only when
            # every failed stream was skipped because it cannot be read
            if not self.skipped or self.other_failures or error.internal_message != "Concurrent read failure":
                raise
        if self.skipped:
            summary = "; ".join(f"{name}: {reason}" for name, reason in sorted(self.skipped.items()))
            yield AirbyteMessage(
                type=Type.LOG,
                log=AirbyteLogMessage(
                    level=Level.INFO,
                    message=f"Skipped {len(self.skipped)} stream(s) this Personio credential or company cannot read: "
                    + ", ".join(sorted(self.skipped)),
                ),
            )
            if self.selected_streams and self.selected_streams <= set(self.skipped):
                # Nothing the user selected could be read: a revoked scope is a configuration
                # problem to fix, not a successful sync of nothing.
                raise AirbyteTracedException(
                    message="The Personio API credential may not read any of the selected streams -- "
                    + summary
                    + f" Grant what is missing in {SETTINGS_PATH} (or book the module), or select other streams.",
                    internal_message="every selected stream lacks a scope or permission",
                    failure_type=FailureType.config_error,
                )


SETTINGS_PATH = SETTINGS
