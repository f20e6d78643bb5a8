"""Session guard: the test suite reads nothing outside the repository.

A user clones this repository alone, so no test may depend on files beside it (Personio's API reference in
``../shared/personio-api`` was one). An audit hook (``sys.addaudithook``) watches every ``open``,
``os.listdir`` and ``os.scandir`` of this pytest process and records paths that are

* in the folder holding the repository but outside the repository itself (``../shared/...``, a sibling
  checkout), except hidden entries there (``../.cache``) and folders Python itself uses (the venv,
  site-packages, sys.path entries, the temp folder, the home folder) when they happen to sit there, or
* in ``$PERSONIO_API_SPECS`` or ``../shared``, wherever those are.

A test that read (or wrote) such a path errors at teardown, naming the paths; reads outside any test
(collection, session fixtures) are listed in the summary and make the run fail (writes there are pytest's
own reports, which go where the user asked). Only tests marked
``@pytest.mark.reads_personio_originals`` may read Personio's originals (``$PERSONIO_API_SPECS`` or
``../shared/personio-api``), and nothing else outside. Child processes (the sandbox server, connector
subprocesses) are not watched; they are started from repository code only.
This file is loaded for any subset of the suite (sandbox/tests, unit_tests, integration_tests).
"""
from __future__ import annotations

import os
import site
import sys
import tempfile

import pytest

MARK = "reads_personio_originals"


def _norm(path: str) -> str:
    return os.path.normcase(os.path.abspath(path))


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def _write_only(args: tuple) -> bool:
    """An ``open`` audit event's (path, mode, flags) opens for writing only."""
    mode = args[1] if len(args) > 1 else None
    flags = args[2] if len(args) > 2 else None
    if isinstance(mode, str):
        return "r" not in mode and "+" not in mode
    return isinstance(flags, int) and flags & getattr(os, "O_ACCMODE", 3) == os.O_WRONLY


class OutsideReads:
    """Classifies paths and keeps the reads outside the repository, per test."""

    def __init__(self, repo: str, environ=os.environ):
        repos = {_norm(repo), _norm(os.path.realpath(repo))}
        self.parents = {os.path.dirname(r) for r in repos}
        originals = {os.path.join(p, "shared", "personio-api") for p in self.parents}
        forbidden = {os.path.join(p, "shared") for p in self.parents}
        env = environ.get("PERSONIO_API_SPECS")
        if env:
            originals |= {_norm(env), _norm(os.path.realpath(env))}
        self.originals = originals
        exempt = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix, tempfile.gettempdir(),
                  os.path.expanduser("~"), *[p for p in sys.path if p]}
        try:
            exempt |= set(site.getsitepackages()) | {site.getusersitepackages()}
        except AttributeError:  # very old virtualenvs
            pass
        # Longest root wins; a root that holds a parent folder cannot exempt anything inside it.
        rules = [(r, "repo") for r in repos] + [(r, "originals") for r in originals]
        rules += [(_norm(f), "outside") for f in forbidden]
        rules += [(p, "parent") for p in self.parents if os.path.dirname(p) != p]  # never the filesystem root
        rules += [(_norm(e), "exempt") for e in exempt
                  if not any(_inside(p, _norm(e)) for p in self.parents)]
        self.rules = sorted(rules, key=lambda r: len(r[0]), reverse=True)
        self.reads: list[tuple[str | None, str, str]] = []  # (test nodeid or None, event, path)
        self.current: tuple[str, bool] | None = None  # (nodeid, may read originals)
        self._busy = False

    def verdict(self, path: str) -> str:
        """'repo', 'exempt', 'other' (not ours to judge), 'originals', 'outside' or 'parent' for one path."""
        for root, kind in self.rules:
            if _inside(path, root):
                if kind == "parent":
                    rest = path[len(root):].lstrip(os.sep)
                    return "exempt" if rest.startswith(".") or not rest else "parent"
                return kind
        return "other"

    def audit(self, event: str, args: tuple) -> None:
        if event not in ("open", "os.listdir", "os.scandir") or self._busy or not args:
            return
        self._busy = True
        try:
            target = args[0]
            if target is None or isinstance(target, int):
                return
            path = _norm(os.fsdecode(os.fspath(target)))
            kind = self.verdict(path)
            if kind in ("originals", "outside", "parent"):
                current = self.current
                if current and current[1] and kind == "originals":
                    return
                if current is None and event == "open" and _write_only(args):
                    return  # pytest's own output (--junitxml=../x.xml) goes where the user asked
                self.reads.append((current[0] if current else None, event, path))
        except Exception:  # an audit hook must never break the operation it watches
            pass
        finally:
            self._busy = False

    def of(self, nodeid: str | None) -> list[str]:
        return list(dict.fromkeys("%s %s" % (e, p) for n, e, p in self.reads if n == nodeid))


GUARD = OutsideReads(os.path.dirname(os.path.abspath(__file__)))
sys.addaudithook(GUARD.audit)


def pytest_configure(config):
    config.addinivalue_line("markers", "%s: the test may read Personio's original OpenAPI files "
                            "($PERSONIO_API_SPECS or ../shared/personio-api); nothing else outside the "
                            "repository" % MARK)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item, nextitem):
    GUARD.current = (item.nodeid, item.get_closest_marker(MARK) is not None)
    try:
        return (yield)
    finally:
        GUARD.current = None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    result = yield
    reads = GUARD.of(item.nodeid)
    if reads:
        pytest.fail("read or wrote outside the repository (a clone on its own has none of these):\n  "
                    + "\n  ".join(reads), pytrace=False)
    return result


def pytest_sessionfinish(session, exitstatus):
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        # an xdist worker: hand its reads outside any test to the controller (pytest_testnodedown)
        workeroutput["reads_outside_any_test"] = [[e, p] for n, e, p in GUARD.reads if n is None]
        return
    if GUARD.of(None) and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    """xdist controller: a worker's reads outside any test count as this session's."""
    for event, path in getattr(node, "workeroutput", {}).get("reads_outside_any_test", []):
        GUARD.reads.append((None, event, path))


def pytest_terminal_summary(terminalreporter):
    owners = list(dict.fromkeys(n for n, _e, _p in GUARD.reads))
    if not owners:
        return
    tr = terminalreporter
    tr.section("reads outside the repository", sep="=", red=True, bold=True)
    for owner in owners:
        tr.line("%s:" % (owner or "outside any test (collection, session fixtures)"), red=True)
        for read in GUARD.of(owner):
            tr.line("  " + read)


# ---------------------------------------------------------------- the "airbyte" logger is left as found
# The CDK logs through the "airbyte" logger and the CDK's test helpers (entrypoint_wrapper) read those lines
# from a handler on the root logger. A library that reconfigures that logger in-process (PyAirbyte, whose
# package is also called "airbyte", sets propagate=False on it) silently empties every later test's log
# messages, so a test that stops the logger propagating (or disables it) fails here, naming the change.
# Its level, handlers and filters are put back after every test without failing it: a read with --debug
# legitimately lowers the level to DEBUG.


def _airbyte_logger_settings():
    import logging

    log = logging.getLogger("airbyte")
    return {"propagate": log.propagate, "disabled": log.disabled, "level": log.level,
            "handlers": list(log.handlers), "filters": list(log.filters)}


@pytest.fixture(autouse=True)
def _airbyte_logger_is_left_as_found():
    import logging

    before = _airbyte_logger_settings()
    yield
    after = _airbyte_logger_settings()
    if after == before:
        return
    log = logging.getLogger("airbyte")
    log.propagate, log.disabled = before["propagate"], before["disabled"]
    log.setLevel(before["level"])
    log.handlers[:], log.filters[:] = before["handlers"], before["filters"]
    harmful = [k for k in ("propagate", "disabled") if before[k] != after[k]]
    if harmful:
        pytest.fail("the test changed the 'airbyte' logger (%s); later tests would lose its log lines"
                    % ", ".join("%s: %r -> %r" % (k, before[k], after[k]) for k in harmful), pytrace=False)
