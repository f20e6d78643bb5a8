"""Fixtures for unit tests; helpers live in personio_mocks.py."""

from personio_mocks import _fresh_token_cache, config, sleeps  # noqa: F401  (pytest fixtures)
