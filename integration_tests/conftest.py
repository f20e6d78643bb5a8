"""Fixtures for integration tests (one sandbox per session); helpers live in sandbox_helpers.py."""

from sandbox_helpers import config, sandbox  # noqa: F401  (pytest fixtures)
