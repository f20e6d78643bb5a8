"""The manifest's error handler, without two Jinja predicates rendered for every successful page."""

from __future__ import annotations

from dataclasses import InitVar, dataclass
from typing import Any, FrozenSet, Mapping, Optional, Union

import requests

from airbyte_cdk.sources.declarative.requesters.error_handlers.default_error_handler import DefaultErrorHandler
from airbyte_cdk.sources.streams.http.error_handlers import ErrorHandler
from airbyte_cdk.sources.streams.http.error_handlers.response_models import SUCCESS_RESOLUTION, ErrorResolution
from airbyte_cdk.sources.types import Config

# The manifest's predicates this handler knows the meaning of (see error_handler in manifest.yaml).
NOT_JSON = "{{ not response }}"
SUCCESS_FALSE = "{{ response is mapping and response.get('success') == false }}"
KNOWN_PREDICATES: FrozenSet[str] = frozenset({NOT_JSON, SUCCESS_FALSE})


@dataclass
class SuccessFastPathErrorHandler(ErrorHandler):
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

    error_handler: ErrorHandler
    config: Config
    parameters: InitVar[Mapping[str, Any]]

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        self._listed_codes, self._fast_path = _filters_known(self.error_handler)

    # -- ErrorHandler ------------------------------------------------------------------------
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

    def interpret_response(self, response_or_exception: Optional[Union[requests.Response, Exception]] = None) -> ErrorResolution:
        if self._fast_path and isinstance(response_or_exception, requests.Response):
            response = response_or_exception
            if response.status_code not in self._listed_codes and response.ok:
                try:
                    body = response.json()
                except Exception:
                    body = None  # the wrapped handler decides (and retries a body that is not JSON)
                if body and not (isinstance(body, Mapping) and body.get("success") == False):  # noqa: E712 (Jinja's == false)
                    return SUCCESS_RESOLUTION
        return self.error_handler.interpret_response(response_or_exception)


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
