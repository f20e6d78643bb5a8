"""Custom components for source-personio: only what the declarative manifest cannot say.

Each class exists for one Personio quirk, named in its docstring. Everything else (paths,
paginators, cursors, primary keys, schemas, error handling) lives in ``manifest.yaml``.
"""

from __future__ import annotations

import hashlib
import ipaddress
import threading
import time
from dataclasses import InitVar, dataclass, field
from typing import Any, Callable, Dict, Iterable, List, Mapping, MutableMapping, Optional, Tuple
from urllib.parse import parse_qs, urlsplit

import orjson
import requests

from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.declarative.auth.declarative_authenticator import DeclarativeAuthenticator
from airbyte_cdk.sources.declarative.extractors.record_extractor import RecordExtractor
from airbyte_cdk.sources.declarative.requesters.paginators.strategies.pagination_strategy import (
    PaginationStrategy,
)
from airbyte_cdk.sources.declarative.transformations import RecordTransformation
from airbyte_cdk.sources.types import Config, Record, StreamSlice, StreamState
from airbyte_cdk.sources.utils.transform import TypeTransformer
from airbyte_cdk.utils.airbyte_secrets_utils import add_to_secrets
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_personio.normalization import CompiledSchemaNormalization

DEFAULT_BASE_URL = "https://api.personio.de"
LOOPBACK_NAMES = {"localhost", "localhost.localdomain"}


# --------------------------------------------------------------------------------------
# Configuration
# --------------------------------------------------------------------------------------


def _is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def validate_base_url(base_url: Optional[str]) -> str:
    """Return the normalised base URL, or raise a config error.

    Personio is only ever reached over https; plain http is accepted for loopback hosts
    (127.0.0.0/8, localhost, ::1) so a local sandbox can stand in for Personio.
    """
    url = (base_url or DEFAULT_BASE_URL).strip().rstrip("/")
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        parts.port  # raises ValueError on a malformed port
    except ValueError:
        parts, host = None, ""
    if parts is None or parts.scheme not in ("http", "https") or not host:
        raise AirbyteTracedException(
            message=f"base_url '{url}' is not a valid URL; use e.g. {DEFAULT_BASE_URL}.",
            failure_type=FailureType.config_error,
        )
    if parts.scheme == "http" and not _is_loopback(host):
        raise AirbyteTracedException(
            message=(
                f"base_url '{url}' uses plain http to a non-loopback host; credentials would travel "
                "unencrypted. Use https (http is accepted only for 127.0.0.0/8, localhost and ::1)."
            ),
            failure_type=FailureType.config_error,
        )
    if parts.query or parts.fragment:
        raise AirbyteTracedException(
            message=f"base_url '{url}' must not contain a query or fragment.",
            failure_type=FailureType.config_error,
        )
    return url


def validate_config(config: Mapping[str, Any]) -> None:
    """Raise a config-error trace for problems a user can fix in the form."""
    for key in ("client_id", "client_secret", "base_url", "start_date", "application_name", "app_id", "partner_id"):
        if config.get(key) is not None and not isinstance(config.get(key), str):
            raise AirbyteTracedException(
                message=f"{key} must be a string, got a {type(config.get(key)).__name__}.",
                failure_type=FailureType.config_error,
            )
    backoff = config.get("retry_backoff_seconds")
    if backoff is not None and (isinstance(backoff, bool) or not isinstance(backoff, (int, float)) or not 0 <= backoff <= 60):
        raise AirbyteTracedException(
            message=f"retry_backoff_seconds must be a number between 0 and 60, got {backoff!r}.",
            failure_type=FailureType.config_error,
        )
    missing = [k for k in ("client_id", "client_secret") if not str(config.get(k) or "").strip()]
    if missing:
        raise AirbyteTracedException(
            message=f"Missing required configuration: {', '.join(missing)}. Create an API credential in "
            "Personio > Settings > Integrations > API credentials.",
            failure_type=FailureType.config_error,
        )
    validate_base_url(config.get("base_url"))
    for key, low, high in (("lookback_window_days", 0, 365), ("num_workers", 1, 32), ("compensations_lookback_months", 0, 24)):
        value = config.get(key)
        if value is None:
            continue
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise AirbyteTracedException(
                message=f"{key} must be an integer between {low} and {high}, got {value!r}.",
                failure_type=FailureType.config_error,
            )
    start = config.get("start_date")
    if start:
        from datetime import datetime

        try:
            datetime.strptime(str(start)[:10], "%Y-%m-%d")
        except ValueError:
            raise AirbyteTracedException(
                message=f"start_date must look like YYYY-MM-DD, got {start!r}.",
                failure_type=FailureType.config_error,
            ) from None


# --------------------------------------------------------------------------------------
# Authentication
# --------------------------------------------------------------------------------------

_TOKEN_CACHE: Dict[Tuple[str, str, str, str], Tuple[str, float]] = {}
_TOKEN_LOCKS: Dict[Tuple[str, str, str, str], threading.Lock] = {}
_CACHE_GUARD = threading.Lock()


def clear_token_cache() -> None:
    """Forget every cached token (tests; a new sync process starts empty anyway)."""
    with _CACHE_GUARD:
        _TOKEN_CACHE.clear()


def personio_headers(config: Mapping[str, Any]) -> Dict[str, str]:
    headers = {}
    # application_name was called app_id (the manifest migrates it; a config read directly may still say app_id)
    application_name = config.get("application_name") or config.get("app_id")
    if application_name:
        headers["X-Personio-App-ID"] = str(application_name)
    if config.get("partner_id"):
        headers["X-Personio-Partner-ID"] = str(config["partner_id"])
    return headers


@dataclass
class PersonioTokenAuthenticator(DeclarativeAuthenticator):
    """Bearer token for one Personio API version, minted once and shared by every stream.

    Personio quirks this exists for:
    * v1 (``POST /v1/auth``, JSON body -> ``data.token``) and v2 (``POST /v2/auth/token``,
      form-encoded OAuth2 client credentials -> ``access_token``) mint tokens differently;
    * tokens live 24 h (``expires_in``) and may be used in parallel, while logins are limited
      (v1: 60/min with a 60 s cool-down) -- so all streams and workers of a sync share one token
      per API version (process-wide cache keyed by base URL, version and credentials), which is
      re-used until shortly before it expires;
    * a 401 on a resource means the token went stale: the manifest's error handler answers
      ``REFRESH_TOKEN_THEN_RETRY`` and the CDK calls :meth:`refresh_and_set_access_token` once.
    Tokens are registered as secrets so they are masked in every log line.
    """

    config: Config
    parameters: InitVar[Mapping[str, Any]]
    api_version: str = "v1"
    max_attempts: int = 5
    backoff_seconds: float = 2.0
    _key: Tuple[str, str, str, str] = field(init=False, repr=False)

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        if self.api_version not in ("v1", "v2"):
            raise ValueError(f"api_version must be v1 or v2, got {self.api_version!r}")
        self.base_url = validate_base_url(self.config.get("base_url"))
        self.client_id = str(self.config.get("client_id") or "")
        self._client_secret = str(self.config.get("client_secret") or "")
        self.max_attempts = int(self.max_attempts)
        self.backoff_seconds = float(self.config.get("retry_backoff_seconds", self.backoff_seconds))
        if self._client_secret:
            add_to_secrets(self._client_secret)
        secret_digest = hashlib.sha256(self._client_secret.encode()).hexdigest()
        self._key = (self.base_url, self.api_version, self.client_id, secret_digest)
        with _CACHE_GUARD:
            _TOKEN_LOCKS.setdefault(self._key, threading.Lock())

    # -- AbstractHeaderAuthenticator -----------------------------------------------------
    @property
    def auth_header(self) -> str:
        return "Authorization"

    @property
    def token(self) -> str:
        return f"Bearer {self.get_access_token()}"

    def get_auth_header(self) -> Mapping[str, Any]:
        return {"Authorization": self.token, **personio_headers(self.config)}

    def __call__(self, request: requests.PreparedRequest) -> Any:
        """Add the token; also parse each response body at most once (see :func:`parse_json_once`)."""
        request = super().__call__(request)
        request.register_hook("response", parse_json_once)
        return request

    # -- token life cycle -----------------------------------------------------------------
    @property
    def token_url(self) -> str:
        return f"{self.base_url}/v1/auth" if self.api_version == "v1" else f"{self.base_url}/v2/auth/token"

    def get_access_token(self) -> str:
        cached = _TOKEN_CACHE.get(self._key)
        if cached and cached[1] > time.monotonic():
            return cached[0]
        with _TOKEN_LOCKS[self._key]:
            cached = _TOKEN_CACHE.get(self._key)
            if cached and cached[1] > time.monotonic():
                return cached[0]
            return self._mint()

    def refresh_and_set_access_token(self) -> None:
        """Called by the CDK once per request after a 401: replace the token, unless another worker
        replaced it while this one waited for the lock (several workers see one expired token)."""
        stale = _TOKEN_CACHE.get(self._key)
        with _TOKEN_LOCKS[self._key]:
            if _TOKEN_CACHE.get(self._key) is not stale:
                return
            self._mint()

    def _mint(self) -> str:
        token, expires_in = self._request_token()
        add_to_secrets(token)
        # renew 5 minutes early (or after 90 % of a short life) so a token never expires mid-request
        margin = min(300.0, expires_in * 0.1)
        _TOKEN_CACHE[self._key] = (token, time.monotonic() + max(expires_in - margin, 1.0))
        return token

    def _request_token(self) -> Tuple[str, float]:
        if self.api_version == "v1":
            kwargs: Dict[str, Any] = {"json": {"client_id": self.client_id, "client_secret": self._client_secret}}
        else:
            kwargs = {
                "data": {
                    "grant_type": "client_credentials",
                    "client_id": self.client_id,
                    "client_secret": self._client_secret,
                },
            }
        headers = {"Accept": "application/json", **personio_headers(self.config)}
        last_problem = ""
        for attempt in range(self.max_attempts):
            if attempt:
                time.sleep(self.backoff_seconds * 2 ** (attempt - 1))
            try:
                # never follow a redirect: a 307/308 would re-send the client secret to wherever it points
                response = requests.post(self.token_url, headers=headers, timeout=60, allow_redirects=False, **kwargs)
            except requests.RequestException as exc:
                last_problem = f"could not connect ({type(exc).__name__})"
                continue
            if response.is_redirect:
                target = urlsplit(response.headers.get("Location") or "")
                raise AirbyteTracedException(
                    message=(
                        f"Personio's token endpoint {self.token_url} answered with a redirect (HTTP {response.status_code}"
                        f"{' to ' + target.scheme + '://' + (target.hostname or '') if target.hostname else ''}); "
                        "credentials are only sent to base_url itself. Check base_url."
                    ),
                    failure_type=FailureType.config_error,
                )
            if response.status_code == 429 or response.status_code >= 500:
                last_problem = f"HTTP {response.status_code}"
                continue
            if response.status_code in (400, 401, 403):
                raise AirbyteTracedException(
                    message=(
                        f"Personio rejected the client_id/client_secret (HTTP {response.status_code} from "
                        f"POST /{self.api_version}/auth{'/token' if self.api_version == 'v2' else ''}"
                        f"{personio_error_detail(response)}). Check the API credential in Personio > Settings > "
                        "Integrations > API credentials and that base_url points to your Personio."
                    ),
                    internal_message=f"token request for {self.api_version} failed with {response.status_code}",
                    failure_type=FailureType.config_error,
                )
            try:
                body = response.json()
            except ValueError:
                body = None
            token, expires_in = _token_from_body(self.api_version, body)
            if response.ok and token:
                return token, expires_in
            raise AirbyteTracedException(
                message=(
                    f"Personio's token endpoint POST {self.token_url} answered HTTP {response.status_code} without "
                    "a token; check base_url."
                ),
                failure_type=FailureType.config_error,
            )
        raise AirbyteTracedException(
            message=(
                f"Could not obtain a Personio {self.api_version} token from {self.token_url} after "
                f"{self.max_attempts} attempts ({last_problem}). Personio may be unavailable or rate limiting logins."
            ),
            failure_type=FailureType.transient_error,
        )


def _token_from_body(api_version: str, body: Any) -> Tuple[Optional[str], float]:
    if not isinstance(body, dict):
        return None, 0.0
    if api_version == "v1":
        if body.get("success") is False:
            return None, 0.0
        data = body.get("data") or {}
        token, expires_in = data.get("token"), data.get("expires_in")
    else:
        token, expires_in = body.get("access_token"), body.get("expires_in")
    try:
        seconds = float(expires_in) if expires_in is not None else 86400.0
    except (TypeError, ValueError):
        seconds = 86400.0
    return (str(token) if token else None), seconds


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


# --------------------------------------------------------------------------------------
# Response bodies: parsed once, with orjson
# --------------------------------------------------------------------------------------


def parse_json_once(response: requests.Response, *args: Any, **kwargs: Any) -> requests.Response:
    """requests response hook: ``response.json()`` parses the body once (orjson) and then returns
    that same, read-only object.

    Every Personio response is read by the manifest's error-handler predicates (a body that is not
    JSON, v1 ``success: false``) and by the paginator before its records are extracted: with
    ``requests``' own ``json()`` that was three parses per page with the stdlib parser, ~13 % of
    a sync's CPU. A body orjson cannot read falls back to ``requests`` (same exceptions as before).
    """
    original = response.json
    cache: List[Any] = []

    def json(**kwargs: Any) -> Any:
        if kwargs:
            return original(**kwargs)
        if not cache:
            try:
                cache.append(orjson.loads(response.content))
            except (orjson.JSONDecodeError, TypeError):
                return original()
        return cache[0]

    response.json = json  # type: ignore[method-assign]
    return response


def response_json(response: requests.Response) -> Any:
    """``response.json()``: the body parsed once per response when :func:`parse_json_once` is hooked in."""
    return response.json()


@dataclass
class TopLevelRecordsExtractor(RecordExtractor):
    """The records under one top-level key of the body: ``data`` (v1) or ``_data`` (v2).

    Personio's list envelopes always hold the records directly under that key. The CDK's
    ``DpathExtractor`` resolves even a one-key path with ``dpath.get``, which visits every node of
    the response (every field of every record): ~12 % of a sync's CPU on 100-record attendance
    pages. The body is the one the error handler already parsed (:func:`parse_json_once`); each
    record is a shallow copy, so transformations may set or clear its keys while the paginator
    still reads the page as served (FlattenAttributes builds new nested objects, never edits them).
    A body that is not JSON, or has no list there, yields nothing (the error handler has already
    retried such a response).
    """

    field_name: str
    config: Config
    parameters: InitVar[Mapping[str, Any]]

    def extract_records(self, response: requests.Response) -> Iterable[MutableMapping[Any, Any]]:
        try:
            body = response_json(response)
        except ValueError:
            return
        extracted = body.get(self.field_name) if isinstance(body, dict) else None
        if isinstance(extracted, list):
            for record in extracted:
                yield dict(record) if isinstance(record, dict) else record
        elif isinstance(extracted, dict) and extracted:
            yield dict(extracted)


# --------------------------------------------------------------------------------------
# Records
# --------------------------------------------------------------------------------------


def _is_attribute(value: Any) -> bool:
    return isinstance(value, dict) and "value" in value and ("label" in value or "universal_id" in value)


def _is_entity(value: Any) -> bool:
    return isinstance(value, dict) and isinstance(value.get("attributes"), (dict, list)) and "type" in value


def flatten_value(value: Any) -> Any:
    """Unwrap v1 attribute objects and ``{type, attributes}`` entities, recursively."""
    if _is_attribute(value):
        return flatten_value(value["value"])
    if _is_entity(value):
        return flatten_entity(value)
    if isinstance(value, list):
        return [flatten_value(v) for v in value]
    if isinstance(value, dict):
        return {k: flatten_value(v) for k, v in value.items()}
    return value


def flatten_entity(entity: Mapping[str, Any]) -> Any:
    attributes = entity.get("attributes")
    if isinstance(attributes, list):  # e.g. custom-report column listings: keep as a list
        return [flatten_value(v) for v in attributes]
    flat: Dict[str, Any] = {k: flatten_value(v) for k, v in entity.items() if k not in ("type", "attributes")}
    for key, value in (attributes or {}).items():
        flat[key] = flatten_value(value)
        if _is_attribute(value) and "currency" in value:
            # salary attributes (fix_salary, hourly_salary) name their currency: kept beside the amount
            flat[f"{key}_currency"] = value["currency"]
    return flat


@dataclass
class FlattenAttributes(RecordTransformation):
    """Turn a Personio v1 record into a flat, typed row.

    Personio v1 wraps every record as ``{"type": "Employee", "attributes": {...}}`` and, for
    employees (and the employee embedded in time-offs), every column as
    ``{"label", "value", "type", "universal_id"}``. This keeps only the values, keyed by the
    attribute key (``dynamic_NNN`` custom attributes included); nested entities such as
    ``department`` or ``supervisor`` stay objects, flattened the same way. An attribute that carries a
    ``currency`` beside its value (``fix_salary`` / ``hourly_salary`` in captured tenant responses, §10.5)
    also gives a ``<key>_currency`` column, so an amount is never read without its currency. Reused by
    any stream whose records come in the v1 envelope.
    """

    parameters: InitVar[Mapping[str, Any]] = None

    def transform(
        self,
        record: Dict[str, Any],
        config: Optional[Config] = None,
        stream_state: Optional[StreamState] = None,
        stream_slice: Optional[StreamSlice] = None,
    ) -> None:
        flat = flatten_entity(record) if _is_entity(record) else flatten_value(dict(record))
        record.clear()
        record.update(flat)


@dataclass
class CustomReportRowsExtractor(RecordExtractor):
    """One record per row of a Personio v1 custom report.

    ``GET /v1/company/custom-reports/reports/{id}`` answers with the report itself whose
    ``items`` hold, per employee, ``attributes`` (point-in-time / timeframe reports) or
    ``historical_attributes`` that each carry an ``effective_date`` (historical reports).
    Rows are keyed ``[report_id, employee_id, effective_date]``: historical cells are grouped
    into one row per employee and effective date; other reports get ``effective_date = ""``
    (one row per employee). Cells keep Personio's shape minus the hoisted keys. Rows and cells are
    new objects built from the body the error handler already parsed (:func:`parse_json_once`; a
    report page is large, parsing it again cost ~2 % of a sync's CPU); the body itself is not changed.
    """

    config: Config
    parameters: InitVar[Mapping[str, Any]]

    def extract_records(self, response: requests.Response) -> Iterable[MutableMapping[Any, Any]]:
        try:
            body = response_json(response)
        except ValueError:
            return
        for report in (body.get("data") if isinstance(body, dict) else None) or []:
            meta = report.get("attributes", report) if isinstance(report, dict) else {}
            report_id = meta.get("id")
            report_type = meta.get("type")
            for item in meta.get("items") or []:
                employee_id = item.get("employee_id")
                if "historical_attributes" in item:
                    by_date: Dict[str, List[Dict[str, Any]]] = {}
                    for cell in item.get("historical_attributes") or []:
                        date = cell.get("effective_date") or ""
                        by_date.setdefault(date, []).append(_cell(cell))
                    for date, cells in by_date.items():
                        yield _row(report_id, report_type, employee_id, date, cells)
                else:
                    yield _row(report_id, report_type, employee_id, "", [_cell(c) for c in item.get("attributes") or []])


def _cell(cell: Mapping[str, Any]) -> Dict[str, Any]:
    return {k: v for k, v in cell.items() if k not in ("employee_id", "effective_date")}


def _row(report_id: Any, report_type: Any, employee_id: Any, date: str, cells: List[Dict[str, Any]]) -> Dict[str, Any]:
    return {
        "report_id": report_id,
        "report_type": report_type,
        "employee_id": employee_id,
        "effective_date": date,
        "attributes": cells,
    }


# --------------------------------------------------------------------------------------
# Pagination
# --------------------------------------------------------------------------------------


@dataclass
class PersonioCursorPagination(PaginationStrategy):
    """Follow Personio v2 cursors from ``_meta.links.next.href``.

    Personio quirks: the ``next`` link was relative on attendance periods until 2025-09-15 and
    is absolute elsewhere; some list examples point at the wrong path; and a ``next`` link
    pointing at the page just read has been reported (infinite loop). So only the ``cursor``
    query value is taken from the link (path and host are ignored; filters are re-sent by the
    requester) and pagination stops when the cursor is absent. A ``next`` cursor equal to the
    one just requested is re-requested up to ``max_cursor_repeats`` times (a transient glitch
    then loses nothing); if it keeps repeating the stream fails with a clear error instead of
    looping forever or silently stopping with the rest of the data unread.
    """

    config: Config
    parameters: InitVar[Mapping[str, Any]]
    page_size: Optional[int] = None
    max_cursor_repeats: int = 2

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        self._stream_name = str((parameters or {}).get("name") or "a v2 stream")
        self._repeats: Dict[str, int] = {}
        self._repeats_lock = threading.Lock()

    @property
    def initial_token(self) -> Optional[Any]:
        return None

    def next_page_token(
        self,
        response: requests.Response,
        last_page_size: int,
        last_record: Optional[Record],
        last_page_token_value: Optional[Any],
        page_size_override: Optional[int] = None,
        stream_slice: Optional[StreamSlice] = None,
    ) -> Optional[Any]:
        try:
            body = response_json(response)
        except ValueError:
            return None
        href = (((body.get("_meta") or {}).get("links") or {}).get("next") or {}).get("href") if isinstance(body, dict) else None
        if not href:
            return None
        cursor = (parse_qs(urlsplit(href).query).get("cursor") or [None])[0]
        if not cursor:
            return None
        if cursor == last_page_token_value:
            with self._repeats_lock:
                repeats = self._repeats[cursor] = self._repeats.get(cursor, 0) + 1
            if repeats > int(self.max_cursor_repeats):
                raise AirbyteTracedException(
                    message=(
                        f"Personio kept answering stream {self._stream_name} with a next link to the page just read "
                        f"(the same cursor {repeats} times in a row), so the rest of the stream cannot be reached. "
                        "The sync stopped rather than loop forever or skip data; retry later or contact Personio support."
                    ),
                    failure_type=FailureType.system_error,
                )
        return cursor

    def get_page_size(self) -> Optional[int]:
        return int(self.page_size) if self.page_size else None


class BlankObjectsToNull(CompiledSchemaNormalization):
    """Schema normalization: a blank (``""``) where the schema expects an object or a list becomes null.

    Personio quirk: an unset nested entity (department, supervisor, cost centers, a time-off's
    certificate ...) is sometimes sent as ``""`` instead of null or an object. Only values whose
    schema does not also allow a string are touched, so a real empty string stays as it is.
    Cost: the walk over each record is planned once per schema (:class:`CompiledSchemaNormalization`).
    """

    @staticmethod
    def _blank_to_null(value: Any, field_schema: Mapping[str, Any]) -> Any:
        if value != "":
            return value
        types = field_schema.get("type")
        types = [types] if isinstance(types, str) else list(types or [])
        if ("object" in types or "array" in types) and "string" not in types:
            return None
        return value

    def converter_for(self, field_schema: Mapping[str, Any]) -> Optional[Callable[[Any], Any]]:
        types = field_schema.get("type")
        types = [types] if isinstance(types, str) else list(types or [])
        if ("object" in types or "array" in types) and "string" not in types:
            return _blank_to_none
        return None


def _blank_to_none(value: Any) -> Any:
    return None if value == "" else value


# --------------------------------------------------------------------------------------
# Permissions (issue 5)
# --------------------------------------------------------------------------------------

# Every 403 error of the manifest's error handler says "... lacks access to <permission> needed by
# stream <name> ...": the marker tells a missing scope/permission from any other failure. The other
# answers of a missing module or right (404 apinot_found, 412, 400 "Unauthorized token") carry
# unreadable.UNREADABLE_MARKER; a 401 refused again after a successful token refresh is a missing right.
PERMISSION_MARKER = "lacks access to"
REFUSED_AFTER_REFRESH = "again after the OAuth token was refreshed"


def _refused_after_refresh(error: Any) -> Optional[str]:
    """The URL of a request Personio refused with 401 although the token had just been re-minted (the token
    endpoint accepted the credentials), from the CDK's error; None for any other error."""
    import re

    internal = str(getattr(error, "internal_message", None) or "")
    if REFUSED_AFTER_REFRESH not in internal or "status code '401'" not in internal:
        return None
    found = re.search(r"request to '([^']+)'", internal)
    return found.group(1) if found else ""


def unreadable_stream_message(error: Any, stream: str) -> Optional[str]:
    """The message to skip ``stream`` with if ``error`` (an exception or a trace error) only says that this
    credential or tenant cannot read it; None for any other failure."""
    from source_personio.unreadable import api_path, is_unreadable, missing_right_401, stream_message

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
        from source_personio.unreadable import is_unreadable

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
    it (HTTP 403, a module not booked, a right missing: see ``unreadable.py``) is skipped -- its error trace is
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


SETTINGS_PATH = "Personio > Settings > Integrations > API credentials"


class CoerceEmployeeWireQuirks(CompiledSchemaNormalization):
    """Schema normalization for employees, whose schema is discovered from the attribute list:
    each value is coerced to the type its attribute declares.

    Personio quirks (v1 ``/company/employees``): booleans sent as ``0``/``1`` (or ``"0"``/``"1"``);
    an unset entity sent as ``""`` or ``[]`` where an object is declared (``""`` where a list of
    objects is); tags sent as one string, either a JSON array (``'["a","b"]'``) or comma
    separated (``"a,b"``); numbers sent as strings. Strings stay strings where the schema allows
    a string. After this, every record validates against the discovered schema.
    """

    # custom normalization only: the quirks are undone first, then the CDK's default conversion
    # runs (it would otherwise wrap a tags string into a one-item list before we could split it)

    @classmethod
    def _coerce_then_convert(cls, value: Any, field_schema: Mapping[str, Any]) -> Any:
        return TypeTransformer.default_convert(cls._coerce(value, field_schema), field_schema)

    def converter_for(self, field_schema: Mapping[str, Any]) -> Optional[Callable[[Any], Any]]:
        coerce_then_convert = self._coerce_then_convert
        if field_schema.get("type") == ["null", "string"]:
            # the common case: a string or null stays what it is (default_convert's str() of a str)
            def convert(value: Any) -> Any:
                if value is None or type(value) is str:
                    return value
                return coerce_then_convert(value, field_schema)

            return convert
        return lambda value: coerce_then_convert(value, field_schema)

    @staticmethod
    def _coerce(value: Any, field_schema: Mapping[str, Any]) -> Any:
        types = field_schema.get("type")
        types = [types] if isinstance(types, str) else list(types or [])
        if "string" in types or value is None:
            return value
        if "boolean" in types and value in (0, 1, "0", "1") and not isinstance(value, bool):
            return bool(int(value))
        if "object" in types and value in ("", []):
            return None
        if "array" in types:
            if value == "":
                items = (field_schema.get("items") or {}).get("type")
                items = [items] if isinstance(items, str) else list(items or [])
                return [] if "string" in items else None
            if isinstance(value, str):
                text = value.strip()
                if text.startswith("["):
                    import json

                    try:
                        parsed = json.loads(text)
                    except ValueError:
                        parsed = None
                    if isinstance(parsed, list):
                        return parsed
                return [part.strip() for part in text.split(",") if part.strip()]
        return value


@dataclass
class CustomReportColumnsExtractor(CustomReportRowsExtractor):
    """One wide record per row of a Personio custom report, for the report's own stream: one
    column per report attribute (keyed by ``attribute_id``) plus ``employee_id`` and
    ``effective_date`` (historical reports; ``""`` in others).

    Personio quirk: a report cell's value sits in a field that depends on its ``data_type`` --
    ``value`` for TEXT and ENTITY (the entity's name; its id is ``entity_id``), ``amount`` and
    ``currency_symbol`` for SALARY, ``cost_centers`` for COST_CENTER, ``duration`` ... -- so TEXT
    and ENTITY cells become their value and any other cell an object of its fields.
    """

    def extract_records(self, response: requests.Response) -> Iterable[MutableMapping[Any, Any]]:
        for row in super().extract_records(response):
            wide: Dict[str, Any] = {"employee_id": row["employee_id"], "effective_date": row["effective_date"]}
            for cell in row["attributes"]:
                key = cell.get("attribute_id")
                if not key:
                    continue
                if cell.get("data_type") in ("TEXT", "ENTITY"):
                    wide[key] = cell.get("value")
                else:
                    wide[key] = {k: v for k, v in cell.items() if k not in ("attribute_id", "data_type")}
            yield wide
