"""The root conftest.py's guard fails a run that reads files beside the repository (``../shared`` and the like).

Each test builds a throw-away layout ``<tmp>/parent/repo`` holding a copy of the real conftest.py, a sibling
``<tmp>/parent/shared/personio-api`` with a fake original, a sibling ``<tmp>/parent/other`` and a hidden
``<tmp>/parent/.hidden``, then runs pytest on small test files in that repo in a subprocess and reads its
JUnit XML and output.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

TESTS = '''
import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent
PARENT = REPO.parent
ORIGINAL = PARENT / "shared" / "personio-api" / "personio-auth-api.yaml"


def test_reads_inside_repo():
    assert (REPO / "inside.txt").read_text() == "in"


def test_writes_and_reads_tmp_path(tmp_path):
    (tmp_path / "f").write_text("x")
    assert (tmp_path / "f").read_text() == "x"


def test_reads_hidden_config_beside_repo():
    assert (PARENT / ".hidden" / "config").read_text() == "cfg"


def test_reads_shared_original():
    ORIGINAL.read_text()


def test_reads_sibling_by_relative_path():
    with open("../other/notes.txt") as f:  # cwd is the repo
        f.read()


def test_reads_sibling_with_os_open():
    os.close(os.open(str(PARENT / "other" / "notes.txt"), os.O_RDONLY))


def test_lists_shared_folder():
    os.listdir(PARENT / "shared")


def test_reads_specs_env_folder():
    Path(os.environ["PERSONIO_API_SPECS"], "personio-auth-api.yaml").read_text()


def test_writes_beside_repo():
    (PARENT / "other" / "written.txt").write_text("x")


@pytest.mark.reads_personio_originals
def test_marked_reads_originals():
    ORIGINAL.read_text()
    Path(os.environ["PERSONIO_API_SPECS"], "personio-auth-api.yaml").read_text()


@pytest.mark.reads_personio_originals
def test_marked_reads_other_sibling():
    (PARENT / "other" / "notes.txt").read_text()
'''

AT_IMPORT = '''
from pathlib import Path

(Path(__file__).resolve().parent.parent / "other" / "at_import.txt").read_text()


def test_nothing():
    pass
'''


@pytest.fixture
def layout(tmp_path):
    parent = tmp_path / "parent"
    repo = parent / "repo"
    repo.mkdir(parents=True)
    shutil.copy(REPO / "conftest.py", repo / "conftest.py")
    (repo / "pytest.ini").write_text("[pytest]\n")
    (repo / "inside.txt").write_text("in")
    (repo / "test_reads.py").write_text(TESTS)
    (repo / "test_at_import.py").write_text(AT_IMPORT)
    for rel, text in (("shared/personio-api/personio-auth-api.yaml", "openapi: 3.0.0"),
                      ("other/notes.txt", "notes"), ("other/at_import.txt", "x"), (".hidden/config", "cfg")):
        (parent / rel).parent.mkdir(parents=True, exist_ok=True)
        (parent / rel).write_text(text)
    specs = tmp_path / "elsewhere" / "specs"  # $PERSONIO_API_SPECS, not beside the repo
    specs.mkdir(parents=True)
    (specs / "personio-auth-api.yaml").write_text("openapi: 3.0.0")
    return tmp_path, repo, specs


def run(layout, *args) -> tuple[int, str, dict]:
    tmp, repo, specs = layout
    junit = tmp / ("junit-%d.xml" % len(list(tmp.glob("junit-*.xml"))))
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env["PERSONIO_API_SPECS"] = str(specs)
    p = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--junitxml", str(junit),
                        *args], cwd=repo, env=env, capture_output=True, text=True, timeout=120)
    outcomes = {}
    for case in ET.parse(junit).iter("testcase"):
        kinds = [c.tag for c in case if c.tag in ("failure", "error", "skipped")]
        outcomes[case.get("name")] = kinds[0] if kinds else "passed"
    return p.returncode, p.stdout + p.stderr, outcomes


def test_guard_fails_each_test_that_reads_beside_the_repo_and_names_the_path(layout):
    tmp, repo, specs = layout
    code, out, outcomes = run(layout, "test_reads.py")
    assert code == 1, out
    assert outcomes == {
        "test_reads_inside_repo": "passed",
        "test_writes_and_reads_tmp_path": "passed",
        "test_reads_hidden_config_beside_repo": "passed",
        "test_marked_reads_originals": "passed",
        "test_reads_shared_original": "error",
        "test_reads_sibling_by_relative_path": "error",
        "test_reads_sibling_with_os_open": "error",
        "test_lists_shared_folder": "error",
        "test_reads_specs_env_folder": "error",
        "test_writes_beside_repo": "error",
        "test_marked_reads_other_sibling": "error",
    }, out
    parent = tmp / "parent"
    for path in (parent / "shared" / "personio-api" / "personio-auth-api.yaml", parent / "other" / "notes.txt",
                 parent / "shared", specs / "personio-auth-api.yaml", parent / "other" / "written.txt"):
        assert str(path) in out, (path, out)
    assert "read or wrote outside the repository" in out
    assert str(repo / "inside.txt") not in out and ".hidden" not in out


def test_guard_passes_a_run_that_reads_only_the_repo_the_venv_and_tmp(layout):
    code, out, outcomes = run(layout, "test_reads.py", "-k", "inside_repo or tmp_path or hidden or marked_reads_originals")
    assert (code, set(outcomes.values())) == (0, {"passed"}), out
    assert len(outcomes) == 4 and "reads outside the repository" not in out


def test_guard_fails_the_session_for_a_read_outside_any_test(layout):
    tmp, _repo, _specs = layout
    code, out, outcomes = run(layout, "test_at_import.py")
    assert outcomes == {"test_nothing": "passed"}, out
    assert code == 1, out
    assert "outside any test (collection, session fixtures)" in out
    assert str(tmp / "parent" / "other" / "at_import.txt") in out
