"""Error handling: wrappers around the manifest's ``DefaultErrorHandler`` for answers it cannot tell apart.

CDK default they extend: ``DefaultErrorHandler`` decides by status code, message and Jinja predicate only, and
logs an ignored response at INFO. :class:`WrappingErrorHandler` is the one base of every wrapper (this module's,
``permissions.UnreadableResourceErrorHandler`` and ``report_v2.GroupedReportErrorHandler``): it hands the CDK the
wrapped handler's retries and backoff and lets a subclass answer some responses itself.
:class:`SuccessFastPathErrorHandler` answers a plain successful page without rendering two Jinja predicates;
:class:`MissingParentErrorHandler` skips a parent Personio deleted during the sync (its 404).
:func:`personio_error_detail` reads the reason out of whichever of Personio's error envelopes a body is.
"""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import InitVar, dataclass, field
from typing import Any, FrozenSet, Mapping, Optional, Set, Union
from urllib.parse import urlsplit

import requests

from airbyte_cdk.sources.declarative.requesters.error_handlers.default_error_handler import DefaultErrorHandler
from airbyte_cdk.sources.streams.http.error_handlers import ErrorHandler
from airbyte_cdk.sources.streams.http.error_handlers.response_models import (
    SUCCESS_RESOLUTION,
    ErrorResolution,
    ResponseAction,
)
from airbyte_cdk.sources.types import Config

logger = logging.getLogger("airbyte")

# The manifest's predicates this handler knows the meaning of (see error_handler in manifest.yaml).
NOT_JSON = "{{ not response }}"
SUCCESS_FALSE = "{{ response is mapping and response.get('success') == false }}"
KNOWN_PREDICATES: FrozenSet[str] = frozenset({NOT_JSON, SUCCESS_FALSE})


def personio_error_detail(response: requests.Response) -> str:
    """A short, secret-free reason taken from whichever of Personio's error envelopes the body is:
    v1 ``{success:false, error:{code,message}}``, v2 auth OAuth2 ``{error, error_description}``,
    v2 problem+json ``{errors:[{title, detail}]}``, v1 projects' top-level ``message``, or the
    custom-reports array ``[{errors:[{title, details}]}]``."""
    try:
        body = response.json()
    except ValueError:
        return ""
    detail = None
    if isinstance(body, dict):
        if isinstance(body.get("error"), dict):
            detail = body["error"].get("message")
        elif isinstance(body.get("error"), str):
            detail = body.get("error_description") or body["error"]
        elif isinstance(body.get("errors"), list) and body["errors"]:
            first = body["errors"][0] or {}
            detail = first.get("detail") or first.get("details") or first.get("title")
        elif body.get("message"):
            detail = body.get("message")
    elif isinstance(body, list) and body and isinstance(body[0], dict):
        errors = body[0].get("errors") or [{}]
        detail = errors[0].get("details") or errors[0].get("title")
    return f": {str(detail)[:200]}" if detail else ""


@dataclass
class WrappingErrorHandler(ErrorHandler):
    """An ``ErrorHandler`` around the manifest's ``error_handler``: every response a subclass does not answer in
    :meth:`answer` is the wrapped handler's, and the CDK reads retries, time limit and backoff from it.

    CDK default it exists for: ``HttpRequester`` hands ``backoff_strategies`` of its error handler to its
    ``HttpClient`` and reads ``max_retries``/``max_time``, so a wrapper that only overrode ``interpret_response``
    would lose the manifest's backoff.
    """

    error_handler: ErrorHandler
    config: Config
    parameters: InitVar[Mapping[str, Any]]

    @property
    def max_retries(self) -> Optional[int]:
        return self.error_handler.max_retries

    @property
    def max_time(self) -> Optional[int]:
        return self.error_handler.max_time

    @property
    def backoff_strategies(self) -> Any:
        """HttpRequester hands these to its HttpClient (it looks for the attribute)."""
        return getattr(self.error_handler, "backoff_strategies", None)

    def __getattr__(self, name: str) -> Any:
        if name == "error_handler":  # not set yet (during dataclass init)
            raise AttributeError(name)
        return getattr(self.error_handler, name)

    def answer(self, response_or_exception: Optional[Union[requests.Response, Exception]]) -> Optional[ErrorResolution]:
        """This wrapper's own resolution of ``response_or_exception``, or None to let the wrapped handler decide."""
        return None

    def interpret_response(self, response_or_exception: Optional[Union[requests.Response, Exception]] = None) -> ErrorResolution:
        resolution = self.answer(response_or_exception)
        if resolution is not None:
            return resolution
        return self.error_handler.interpret_response(response_or_exception)



@dataclass
class SuccessFastPathErrorHandler(WrappingErrorHandler):
    """The manifest's ``DefaultErrorHandler`` (``error_handler``), answering a plain successful page itself.

    Personio quirks the wrapped handler's predicates exist for: a body that is not JSON (cut off,
    or a proxy's page) must be retried, never read as an empty last page; a v1 body with
    ``success: false`` is an error even with HTTP 200. Cost: ``DefaultErrorHandler`` renders both
    predicates with Jinja (and parses the output with ``ast.literal_eval``) for every page, ~4 %
    of a sync's CPU. A 2xx/3xx response whose status no filter lists and whose parsed body is
    neither empty nor a mapping with ``success == false`` is one neither predicate matches: it gets
    the success the wrapped handler would give. Every other response, and every response when the
    wrapped handler's filters are not the ones this class knows, goes to the wrapped handler.
    """

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        self._listed_codes, self._fast_path = _filters_known(self.error_handler)

    def answer(self, response_or_exception: Optional[Union[requests.Response, Exception]]) -> Optional[ErrorResolution]:
        if self._fast_path and isinstance(response_or_exception, requests.Response):
            response = response_or_exception
            if response.status_code not in self._listed_codes and response.ok:
                try:
                    body = response.json()
                except Exception:
                    body = None  # the wrapped handler decides (and retries a body that is not JSON)
                if body and not (isinstance(body, Mapping) and body.get("success") == False):  # noqa: E712 (Jinja's == false)
                    return SUCCESS_RESOLUTION
        return None


def _filters_known(error_handler: Any) -> "tuple[FrozenSet[int], bool]":
    """(every status a filter lists, whether every filter is a status filter or a known predicate)."""
    filters = getattr(error_handler, "response_filters", None)
    if filters is None or type(error_handler) is not DefaultErrorHandler:
        return frozenset(), False
    codes = set()
    for response_filter in filters:
        predicate = getattr(response_filter, "predicate", None)
        condition = getattr(predicate, "condition", predicate) or ""
        if getattr(response_filter, "error_message_contains", None):
            return frozenset(), False
        if condition and condition.strip() not in KNOWN_PREDICATES:
            return frozenset(), False
        codes.update(getattr(response_filter, "http_codes", None) or ())
    return frozenset(codes), True


# A v2 404 whose problem type says the endpoint itself does not exist (Personio answers it for a
# tenant without the module, reference section 10.2): not a missing parent.
_ENDPOINT_NOT_FOUND = re.compile(r"apinot_?found|endpoint .* was not found", re.IGNORECASE)


@dataclass
class MissingParentErrorHandler(WrappingErrorHandler):
    """The error handler of a stream read one parent at a time, skipping a parent deleted mid-sync.

    Personio quirk: a child list -- an employee's absence balances, a person's employments, an
    absence period's breakdowns, an application's stage transitions -- answers HTTP 404 once its
    parent is deleted (v1: the ``success: false`` envelope with ``code`` 404; v2: problem+json), and
    a parent can be deleted between the page of the parent list that named it and the child request.
    The wrapped handler (the manifest's ``DefaultErrorHandler``: no filter for 404, then the
    ``success == false`` predicate) fails the whole sync on it. This handler answers such a 404 with
    IGNORE (the parent has no records to read) and logs ONE warning per parent naming the stream,
    the parent id and what Personio answered; the CDK's ``IGNORE`` + ``error_message`` would log it at
    INFO only. Every other response -- and a 404 saying the endpoint itself does not exist, or for a
    path that does not name a parent -- goes to the wrapped handler.
    """

    # what the parent is called in the warning ("employee", "person", ...)
    parent: str = "parent"
    # regular expression whose first group is the parent id in the request path
    parent_id_pattern: str = ""
    _warned: Set[str] = field(default_factory=set, init=False, repr=False)
    _lock: Any = field(default_factory=threading.Lock, init=False, repr=False)

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        self._stream_name = str((parameters or {}).get("name") or "")
        if not self.parent_id_pattern:
            raise ValueError("MissingParentErrorHandler needs parent_id_pattern (a regex capturing the parent id)")
        self._pattern = re.compile(self.parent_id_pattern)

    def answer(self, response_or_exception: Optional[Union[requests.Response, Exception]]) -> Optional[ErrorResolution]:
        if isinstance(response_or_exception, requests.Response) and response_or_exception.status_code == 404:
            parent_id = self._missing_parent(response_or_exception)
            if parent_id is not None:
                self._warn_once(parent_id, response_or_exception)
                return ErrorResolution(response_action=ResponseAction.IGNORE)
        return None

    def _missing_parent(self, response: requests.Response) -> Optional[str]:
        """The parent id the 404 is about, or None when it is not about a missing parent."""
        request = getattr(response, "request", None)
        url = getattr(request, "url", None) or getattr(response, "url", "") or ""
        match = self._pattern.search(urlsplit(url).path)
        if not match:
            return None
        if _ENDPOINT_NOT_FOUND.search(personio_error_detail(response) + " " + _problem_type(response)):
            return None
        return match.group(1)

    def _warn_once(self, parent_id: str, response: requests.Response) -> None:
        with self._lock:
            if parent_id in self._warned:
                return
            self._warned.add(parent_id)
        logger.warning(
            f"Skipped {self._stream_name} of {self.parent} {parent_id}: Personio answered HTTP {response.status_code}"
            f"{personio_error_detail(response)} (the {self.parent} was deleted while the sync read it); "
            f"the stream goes on with the other {self.parent}s."
        )


def _problem_type(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    errors = body.get("errors") if isinstance(body, dict) else None
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        return str(errors[0].get("type") or "")
    return ""
