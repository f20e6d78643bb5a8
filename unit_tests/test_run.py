"""run.py: the console entry point's process tuning: a longer GIL switch interval, proxy settings looked up once per host."""

import sys

import pytest
import requests
import requests.sessions
import requests.utils

from source_personio import cdk_adaptations
from source_personio import run as run_module


@pytest.fixture
def restore_proxy_lookup():
    original = requests.sessions.get_environ_proxies
    interval = sys.getswitchinterval()
    yield
    requests.sessions.get_environ_proxies = original
    sys.setswitchinterval(interval)


def test_a_sync_process_switches_threads_every_50_ms(restore_proxy_lookup):
    run_module.tune_process()
    assert sys.getswitchinterval() == pytest.approx(run_module.SWITCH_INTERVAL_S)


def test_proxies_from_the_environment_still_apply_to_every_request(monkeypatch, restore_proxy_lookup):
    requests.sessions.get_environ_proxies = requests.utils.get_environ_proxies
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "internal.example")
    cdk_adaptations.memoize_environment_proxies()
    session = requests.Session()
    settings = session.merge_environment_settings("https://api.personio.de/v1/company/employees?limit=1", {}, None, None, None)
    assert settings["proxies"]["https"] == "http://proxy.example:3128"
    settings = session.merge_environment_settings("https://internal.example/v1/auth", {}, None, None, None)
    assert "https" not in settings["proxies"]
    # an explicit no_proxy of the request still counts
    settings = session.merge_environment_settings("https://api.personio.de/v2/persons", {"no_proxy": "api.personio.de"}, None, None, None)
    assert "https" not in settings["proxies"]


def test_the_environment_is_scanned_once_per_host_not_per_request(monkeypatch, restore_proxy_lookup):
    calls = []

    def counting(url, no_proxy=None):
        calls.append(url)
        return {"http": "http://proxy.example:3128"}

    requests.sessions.get_environ_proxies = counting
    cdk_adaptations.memoize_environment_proxies()
    for page in range(5):
        proxies = requests.sessions.get_environ_proxies(f"http://127.0.0.1:8080/v2/persons?cursor={page}")
        proxies["http"] = "changed by a caller"
    assert requests.sessions.get_environ_proxies("http://127.0.0.1:8080/v1/auth") == {"http": "http://proxy.example:3128"}
    requests.sessions.get_environ_proxies("http://localhost:8080/v1/auth")
    assert calls == ["http://127.0.0.1:8080/", "http://localhost:8080/"]


ARENA_PROBE = """
import ctypes, sys, threading
from source_personio.run import limit_malloc_arenas
if sys.argv[1] == "limit":
    limit_malloc_arenas()
def work():
    keep = [bytes(600) for _ in range(20000)]
    del keep
threads = [threading.Thread(target=work) for _ in range(8)]
[t.start() for t in threads]
[t.join() for t in threads]
ctypes.CDLL("libc.so.6").malloc_stats()  # one "Arena N:" block per arena, on stderr
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc arenas exist on Linux only")
def test_a_sync_process_keeps_two_malloc_arenas_however_many_threads_allocate():
    import os
    import subprocess

    env = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"}

    def arenas(mode: str) -> int:
        done = subprocess.run([sys.executable, "-c", ARENA_PROBE, mode], env=env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        return sum(1 for line in done.stderr.splitlines() if line.startswith("Arena "))

    assert arenas("limit") <= run_module.MALLOC_ARENAS < arenas("unlimited")


def test_a_users_malloc_arena_max_wins(monkeypatch):
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    assert run_module.limit_malloc_arenas() is False
