"""Fixtures for sandbox tests: a running sandbox subprocess (rate limits off) and a client."""
from __future__ import annotations

import pytest

from personio_sandbox.testing import Sandbox
from sandbox_client import Client


@pytest.fixture(scope="module")
def sb():
    with Sandbox(employees=40, seed=3, rate_limits="off") as s:
        yield s


@pytest.fixture(scope="module")
def client(sb):
    return Client(sb)
