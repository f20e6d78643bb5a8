"""Connector configuration: what a user can get wrong in the form, told as a config error before any request.

Personio quirks and CDK defaults this exists for:
* the spec (``manifest.yaml`` ``spec:``) is the one source of every default and bound; this module reads them from
  it (:func:`spec_property`) instead of repeating them, so ``base_url``'s default, ``num_workers``' bounds and the
  retry backoff are written once;
* the CDK validates a config against the spec only in ``check`` and lets a wrongly typed value fail deep inside a
  stream with a bare stack trace; :func:`validate_config` answers every command with one config-error trace;
* Personio is only ever reached over https: :func:`validate_base_url` normalises ``base_url`` once (trailing
  slash, blanks) and refuses plain http to a non-loopback host, where the client secret would travel unencrypted.
"""

from __future__ import annotations

import functools
import ipaddress
from pathlib import Path
from typing import Any, Mapping, Optional
from urllib.parse import urlsplit

import yaml

from airbyte_cdk.models import FailureType
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

MANIFEST_PATH = Path(__file__).resolve().parent / "manifest.yaml"
LOOPBACK_NAMES = {"localhost", "localhost.localdomain"}


@functools.lru_cache(maxsize=1)
def _spec_properties() -> Mapping[str, Mapping[str, Any]]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: 20x faster at start-up
    with open(MANIFEST_PATH, "r", encoding="utf-8") as handle:
        manifest = yaml.load(handle, Loader=loader)  # noqa: S506 (a safe loader)
    return manifest["spec"]["connection_specification"]["properties"]


def spec_property(key: str) -> Mapping[str, Any]:
    """The spec's JSON schema of config key ``key`` (its ``default``, ``minimum``, ``maximum`` ...)."""
    return _spec_properties()[key]


def spec_default(key: str) -> Any:
    """The spec's default for config key ``key``: the value a config without it is read with."""
    return spec_property(key)["default"]


def config_value(config: Optional[Mapping[str, Any]], key: str) -> Any:
    """``config[key]``, or the spec's default when the config leaves it out (or sets it to null)."""
    value = (config or {}).get(key)
    return spec_default(key) if value is None else value


DEFAULT_BASE_URL: str = spec_default("base_url")

# config keys with integer bounds in the spec
BOUNDED_INTEGERS = ("lookback_window_days", "num_workers", "compensations_lookback_months")


def retry_backoff_seconds(config: Optional[Mapping[str, Any]]) -> float:
    """The first wait before a retry (doubled on each further one): the spec's ``retry_backoff_seconds``."""
    return float(config_value(config, "retry_backoff_seconds"))


def backoff_wait(first_wait: float, retry: int) -> float:
    """Seconds to wait before retry number ``retry`` (1, 2, ...): ``first_wait * 2^(retry - 1)``, the exponential
    backoff of the manifest's ``ExponentialBackoffStrategy`` (``retry_backoff_seconds * 2^attempt``), used by the
    retries the CDK does not make (token requests, check probes)."""
    return float(first_wait) * 2 ** (retry - 1)


def pace_requests(config: Optional[Mapping[str, Any]]) -> bool:
    """Whether requests are paced to Personio's rate limits (spec ``pace_requests``; only an explicit false turns
    it off)."""
    return config_value(config, "pace_requests") is not False


def num_workers(config: Optional[Mapping[str, Any]]) -> int:
    return int(config_value(config, "num_workers"))


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
    low, high = spec_property("retry_backoff_seconds")["minimum"], spec_property("retry_backoff_seconds")["maximum"]
    if backoff is not None and (isinstance(backoff, bool) or not isinstance(backoff, (int, float)) or not low <= backoff <= high):
        raise AirbyteTracedException(
            message=f"retry_backoff_seconds must be a number between {low} and {high}, got {backoff!r}.",
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
    for key in BOUNDED_INTEGERS:
        low, high = spec_property(key)["minimum"], spec_property(key)["maximum"]
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
