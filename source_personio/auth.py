"""Authentication: one Personio token per API version, minted once and shared by every stream and worker.

Personio quirks this exists for (the CDK's ``OAuthAuthenticator`` covers none of them): v1 and v2 mint tokens
differently (``POST /v1/auth`` JSON body vs. ``POST /v2/auth/token`` form-encoded client credentials), logins are
rate limited while a token lives 24 h and may be used in parallel, a redirect from the token endpoint must never
be followed (it would re-send the client secret), and every request carries the ``X-Personio-App-ID`` /
``X-Personio-Partner-ID`` headers. Tokens and the client secret are registered as secrets the moment they are
known, so no log line at any level shows them.
"""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import InitVar, dataclass, field
from typing import Any, Dict, Mapping, Optional, Tuple
from urllib.parse import urlsplit

import requests

from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.declarative.auth.declarative_authenticator import DeclarativeAuthenticator
from airbyte_cdk.sources.types import Config
from airbyte_cdk.utils.airbyte_secrets_utils import add_to_secrets
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_personio.config import backoff_wait, retry_backoff_seconds, validate_base_url
from source_personio.error_handling import personio_error_detail
from source_personio.extractors import parse_json_once

_TOKEN_CACHE: Dict[Tuple[str, str, str, str], Tuple[str, float]] = {}
_TOKEN_LOCKS: Dict[Tuple[str, str, str, str], threading.Lock] = {}
_CACHE_GUARD = threading.Lock()


def clear_token_cache() -> None:
    """Forget every cached token (tests; a new sync process starts empty anyway)."""
    with _CACHE_GUARD:
        _TOKEN_CACHE.clear()


def personio_headers(config: Mapping[str, Any]) -> Dict[str, str]:
    """The headers Personio asks every request to carry (its support traces calls by them)."""
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
    _key: Tuple[str, str, str, str] = field(init=False, repr=False)

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        if self.api_version not in ("v1", "v2"):
            raise ValueError(f"api_version must be v1 or v2, got {self.api_version!r}")
        self.base_url = validate_base_url(self.config.get("base_url"))
        self.client_id = str(self.config.get("client_id") or "")
        self._client_secret = str(self.config.get("client_secret") or "")
        self.max_attempts = int(self.max_attempts)
        # the spec's retry_backoff_seconds, as for every other retry of a sync
        self.backoff_seconds = retry_backoff_seconds(self.config)
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
                time.sleep(backoff_wait(self.backoff_seconds, attempt))
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

