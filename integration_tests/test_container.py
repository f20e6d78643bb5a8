"""The Docker image is the deliverable Airbyte runs: build it, run every protocol command in it against the
Personio sandbox over the host network, and require the same output as the connector run in process.

A Docker engine is started when none answers and this machine can run one (root + Debian's docker.io; see
scripts/docker_engine.sh) and stopped again at the end of the module. When the machine cannot run Docker
at all the tests are skipped with the reason - except in CI (env CI=true), where that is a failure.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import shutil
import socket
import subprocess
import sys
import tomllib
import time
import uuid
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
IMAGE = os.environ.get("PERSONIO_TEST_IMAGE", "airbyte/source-personio:dev")
SANDBOX_EMPLOYEES = 120  # two pages of employees (100 per page), three of absences
IN_CI = os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}

pytestmark = pytest.mark.timeout(900)


# --------------------------------------------------------------------------------------------- helpers


def _say(request: pytest.FixtureRequest, line: str) -> None:
    """Write to the terminal even when output is captured (image facts belong in the CI log)."""
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capman = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is None:
        return
    with capman.global_and_fixture_disabled() if capman else contextlib.nullcontext():
        reporter.write_line(f"\n[container] {line}")


def _docker(*args: str, timeout: int = 300, check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"docker {' '.join(args[:3])} ... failed ({proc.returncode}): {proc.stderr[-3000:]}")
    return proc


def _messages(stdout: str) -> list[dict]:
    out = []
    for line in stdout.splitlines():
        line = line.strip()
        if line.startswith("{"):
            out.append(json.loads(line))
    return out


def _of_type(messages: list[dict], kind: str) -> list[dict]:
    return [m for m in messages if m.get("type") == kind]


def _docker_run(data_dir: Path | None, *args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    """`docker run` the image on the host network with data_dir mounted read-only at /data; a container
    that outlives `timeout` is killed (killing the docker client alone would leave it running)."""
    name = f"personio-test-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    mount = ["-v", f"{data_dir}:/data:ro"] if data_dir else []
    cmd = ["docker", "run", "--rm", "--name", name, "--network", "host", *mount, IMAGE, *args]
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        subprocess.run(["docker", "kill", name], capture_output=True, timeout=60)
        tail = (exc.stdout or b"")[-3000:]
        raise AssertionError(f"`{' '.join(args[:1])}` in the container took over {timeout}s; last output: {tail!r}")


def _run_container(data_dir: Path, *args: str, timeout: int = 600) -> list[dict]:
    proc = _docker_run(data_dir, *args, timeout=timeout)
    messages = _messages(proc.stdout)
    errors = [m for m in _of_type(messages, "TRACE") if m["trace"].get("type") == "ERROR"]
    assert proc.returncode == 0 and not errors, (
        f"`{' '.join(args)}` in the container failed ({proc.returncode}): "
        f"{[e['trace']['error'].get('message') for e in errors]} {proc.stderr[-2000:]}"
    )
    return messages


def _write(data_dir: Path, name: str, content: Any) -> str:
    path = data_dir / name
    path.write_text(json.dumps(content))
    path.chmod(0o644)  # the container user (uid 1000) reads the mount
    return str(path)


def _pk_paths(catalog: dict) -> dict[str, list[list[str]]]:
    return {s["name"]: s.get("source_defined_primary_key") or [] for s in catalog["streams"]}


def _records_by_pk(messages: list[dict], pks: dict[str, list[list[str]]]) -> dict[str, dict[tuple, dict]]:
    out: dict[str, dict[tuple, dict]] = {}
    for m in _of_type(messages, "RECORD"):
        stream, data = m["record"]["stream"], m["record"]["data"]
        key = []
        for path in pks[stream]:
            value: Any = data
            for part in path:
                value = value.get(part) if isinstance(value, dict) else None
            key.append(json.dumps(value, sort_keys=True))
        out.setdefault(stream, {})[tuple(key)] = data
    return out


def _record_counts(messages: list[dict]) -> Counter:
    return Counter(m["record"]["stream"] for m in _of_type(messages, "RECORD"))


def _final_states(messages: list[dict]) -> dict[str, Any]:
    """The last state each stream emitted (per-stream state messages)."""
    out = {}
    for m in _of_type(messages, "STATE"):
        state = m["state"]
        if state.get("type") == "STREAM" or "stream" in state:
            out[state["stream"]["stream_descriptor"]["name"]] = state["stream"].get("stream_state")
        elif state.get("type") == "GLOBAL":
            out["__global__"] = state.get("global")
    return out


def _comparable(states: dict[str, Any]) -> dict[str, Any]:
    """Final states minus what measures the run rather than the data: the CDK's per-partition cursor
    stores the sync's duration in seconds as `lookback_window`."""
    out = {}
    for name, state in states.items():
        if isinstance(state, dict) and "lookback_window" in state and "use_global_cursor" in state:
            state = {k: v for k, v in state.items() if k != "lookback_window"}
        out[name] = state
    return out


def _state_input(final_states: dict[str, Any]) -> list[dict]:
    return [
        {"type": "STREAM", "stream": {"stream_descriptor": {"name": name}, "stream_state": state}}
        for name, state in sorted(final_states.items())
    ]


def _configured_catalog(catalog: dict) -> dict:
    streams = []
    for s in catalog["streams"]:
        incremental = "incremental" in s.get("supported_sync_modes", [])
        entry = {
            "stream": s,
            "sync_mode": "incremental" if incremental else "full_refresh",
            "destination_sync_mode": "append_dedup" if incremental and s.get("source_defined_primary_key") else (
                "append" if incremental else "overwrite"
            ),
        }
        if s.get("source_defined_primary_key"):
            entry["primary_key"] = s["source_defined_primary_key"]
        if incremental and s.get("default_cursor_field"):
            entry["cursor_field"] = s["default_cursor_field"]
        streams.append(entry)
    return {"streams": streams}


# ------------------------------------------------------------------------------------------ in process


def _in_process(command: str, files: dict[str, str]) -> list[dict]:
    """Run a protocol command with the connector imported in this process; returns plain dict messages."""
    from airbyte_cdk.models import (
        AirbyteMessageSerializer,
        AirbyteStateMessageSerializer,
        ConfiguredAirbyteCatalogSerializer,
    )
    from airbyte_cdk.test import entrypoint_wrapper

    from source_personio.run import create_source

    args = [command]
    for flag in ("config", "catalog", "state"):
        if flag in files:
            args += [f"--{flag}", files[flag]]
    source = create_source(args)
    config = json.loads(Path(files["config"]).read_text()) if "config" in files else None
    if command == "spec":
        spec = source.spec(logging.getLogger("airbyte"))
        return [AirbyteMessageSerializer.dump(_spec_message(spec))]
    if command == "discover":
        output = entrypoint_wrapper.discover(source, config)
    elif command == "read":
        catalog = ConfiguredAirbyteCatalogSerializer.load(json.loads(Path(files["catalog"]).read_text()))
        state = (
            [AirbyteStateMessageSerializer.load(s) for s in json.loads(Path(files["state"]).read_text())]
            if "state" in files
            else None
        )
        output = entrypoint_wrapper.read(source, config, catalog, state)
    else:
        raise ValueError(command)
    assert not output.errors, f"in-process {command} failed: {output.get_formatted_error_message()}"
    return [AirbyteMessageSerializer.dump(m) for m in output.get_message_iterator()]


def _spec_message(spec):
    from airbyte_cdk.models import AirbyteMessage, Type

    return AirbyteMessage(type=Type.SPEC, spec=spec)


# -------------------------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def docker_engine(request):
    ping = subprocess.run(["docker", "info"], capture_output=True, text=True, timeout=30) if _has_docker() else None
    started = False
    if ping is None or ping.returncode != 0:
        proc = subprocess.run(
            ["bash", str(ROOT / "scripts" / "docker_engine.sh"), "start"], capture_output=True, text=True, timeout=900
        )
        reason = (proc.stderr.strip() or proc.stdout.strip())[-1500:]
        if proc.returncode == 3 and not IN_CI:
            pytest.skip(f"container tests need a Docker engine and this machine cannot run one: {reason}")
        if proc.returncode != 0:
            pytest.fail(f"could not start a Docker engine{' (CI: container tests must run)' if IN_CI else ''}: {reason}")
        started = proc.stdout.startswith("started")
        if started:
            _say(request, f"started a Docker engine for the container tests ({proc.stdout.strip()})")
    yield
    if started:
        proc = subprocess.run(
            ["bash", str(ROOT / "scripts" / "docker_engine.sh"), "stop"], capture_output=True, text=True, timeout=120
        )
        _say(request, f"Docker engine: {proc.stdout.strip() or proc.stderr.strip()}")


def _has_docker() -> bool:
    return shutil.which("docker") is not None


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _locked_versions() -> dict[str, str]:
    """name -> version pinned in requirements-connector.lock (the file the image must be built from)."""
    text = (ROOT / "requirements-connector.lock").read_text()
    return {_normalized(m.group(1)): m.group(2) for m in re.finditer(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)", text, re.M)}


@pytest.fixture(scope="module")
def image(docker_engine, request) -> dict:
    started = time.monotonic()
    proc = subprocess.run(
        ["bash", str(ROOT / "scripts" / "build_image.sh")], capture_output=True, text=True, timeout=900,
        env={**os.environ, "IMAGE": IMAGE},
    )
    assert proc.returncode == 0, f"scripts/build_image.sh failed:\n{proc.stderr[-4000:]}"
    inspect = json.loads(_docker("image", "inspect", IMAGE).stdout)[0]
    labels = inspect["Config"].get("Labels") or {}
    base = labels.get("io.airbyte.base_image", "")
    base_size = json.loads(_docker("image", "inspect", base).stdout)[0]["Size"] if base else 0
    facts = {"size": inspect["Size"], "base": base, "base_size": base_size, "config": inspect["Config"]}
    _say(
        request,
        f"built {IMAGE} in {time.monotonic() - started:.0f}s on {base}: image {inspect['Size'] / 1e6:.0f} MB "
        f"(connector layers {(inspect['Size'] - base_size) / 1e6:.0f} MB, base {base_size / 1e6:.0f} MB)",
    )
    (ROOT / ".build").mkdir(exist_ok=True)
    (ROOT / ".build" / "image-facts.json").write_text(json.dumps({k: v for k, v in facts.items() if k != "config"}))
    return facts


@pytest.fixture(scope="module")
def sandbox():
    from personio_sandbox.testing import Sandbox

    # Small enough to keep both full reads quick, large enough for several pages of every paginated stream.
    with Sandbox(employees=SANDBOX_EMPLOYEES, seed=1, rate_limits="off") as sb:
        yield sb


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("container-data")
    path.chmod(0o755)
    return path


@pytest.fixture(scope="module")
def files(sandbox, data_dir) -> dict[str, str]:
    config = sandbox.config()
    assert config["base_url"].startswith("http://127.") or "localhost" in config["base_url"]
    return {"config": _write(data_dir, "config.json", config)}


@pytest.fixture(scope="module")
def discovered(image, files) -> dict:
    return _of_type(_run_container(Path(files["config"]).parent, "discover", "--config", "/data/config.json"), "CATALOG")[
        0
    ]["catalog"]


@pytest.fixture(scope="module")
def full_read(image, files, discovered, data_dir) -> dict:
    """First sync (no state) of every stream, in the container and in process, before any data change."""
    catalog_file = _write(data_dir, "configured_catalog.json", _configured_catalog(discovered))
    container = _run_container(data_dir, "read", "--config", "/data/config.json", "--catalog", "/data/configured_catalog.json")
    in_process = _in_process("read", {"config": files["config"], "catalog": catalog_file})
    return {"container": container, "in_process": in_process}


# ----------------------------------------------------------------------------------------------- tests


def test_image_runs_as_non_root_airbyte_user(image):
    uid = _docker("run", "--rm", "--entrypoint", "id", IMAGE, "-u").stdout.strip()
    name = _docker("run", "--rm", "--entrypoint", "id", IMAGE, "-un").stdout.strip()
    assert uid != "0" and name == "airbyte"
    config = image["config"]
    assert config["User"] == "airbyte"
    assert config["WorkingDir"] == "/airbyte/integration_code"
    env = dict(e.split("=", 1) for e in config["Env"])
    assert config["Entrypoint"] == env["AIRBYTE_ENTRYPOINT"].split()


def test_image_holds_only_what_runs(image, request):
    probe = (
        "import importlib.util as u, os; "
        "print(sorted(m for m in ('personio_sandbox','pytest','unit_tests','integration_tests','duckdb','airbyte',"
        "'requests_mock','pip') if u.find_spec(m))); "
        "print(sorted(os.listdir('/airbyte/integration_code'))); "
        "print(os.path.exists('/tmp/build'), os.listdir('/tmp'))"
    )
    lines = _docker("run", "--rm", "--entrypoint", "python3", IMAGE, "-c", probe).stdout.splitlines()
    assert lines == ["[]", "[]", "False []"], f"the image carries more than the connector: {lines}"
    # The connector's own layers (venv + user) stay small next to any base image.
    connector_mb = (image["size"] - image["base_size"]) / 1e6
    _say(request, f"image size {image['size'] / 1e6:.0f} MB; connector layers {connector_mb:.0f} MB")
    assert 0 < connector_mb < 450, f"connector layers take {connector_mb:.0f} MB"


def test_image_holds_exactly_the_locked_versions(image):
    """The venv in the image is requirements-connector.lock plus the connector, nothing more or less."""
    probe = (
        "import importlib.metadata as m, json; "
        "print(json.dumps({d.metadata['Name']: d.version for d in m.distributions()}))"
    )
    out = _docker("run", "--rm", "--network", "none", "--entrypoint", "python3", IMAGE, "-c", probe).stdout
    installed = {_normalized(name): version for name, version in json.loads(out).items()}
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    expected = {**_locked_versions(), _normalized(project["name"]): project["version"]}
    assert len(expected) > 50, "the lock lists the connector's whole dependency tree"
    assert installed == expected
    # ... and the build installed them from the lock in hash-checking mode (scripts/build_image.sh's log).
    log = (ROOT / ".build" / "docker-build.log").read_text()
    assert re.search(r"RUN .*pip install .*--require-hashes .*-r /tmp/build/requirements-connector\.lock", log), log[-3000:]


def _locked_hashes() -> dict[str, set[str]]:
    """name -> the sha256 digests requirements-connector.lock allows for it."""
    text = (ROOT / "requirements-connector.lock").read_text()
    out: dict[str, set[str]] = {}
    for block in re.finditer(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==\S+((?: \\\n\s+--hash=sha256:[0-9a-f]{64})+)", text, re.M):
        out[_normalized(block.group(1))] = set(re.findall(r"sha256:([0-9a-f]{64})", block.group(2)))
    return out


def test_lock_installs_on_linux_arm64_from_hashed_wheels(tmp_path):
    """`docker buildx build --platform linux/arm64` runs the same pip line on arm64: every pin must have a
    wheel for CPython 3.11 on manylinux aarch64 (the base has no compiler) whose sha256 the lock lists.
    Resolved with pip's --dry-run against the package index (no Docker needed)."""
    platforms = ["--platform", "manylinux2014_aarch64"]
    for minor in range(17, 37):  # glibc 2.36: Debian bookworm, the base images' distribution
        platforms += ["--platform", f"manylinux_2_{minor}_aarch64"]
    report = tmp_path / "report.json"
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--no-deps", "--quiet",
         "--only-binary=:all:", "--require-hashes", "--implementation", "cp", "--python-version", "3.11",
         "--abi", "cp311", "--abi", "abi3", "--abi", "none", *platforms, "--target", str(tmp_path / "target"),
         "-r", str(ROOT / "requirements-connector.lock"), "--report", str(report)],
        capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    chosen = {}
    for item in json.loads(report.read_text())["install"]:
        url = item["download_info"]["url"]
        chosen[_normalized(item["metadata"]["name"])] = (
            item["metadata"]["version"], url.rsplit("/", 1)[-1], item["download_info"]["archive_info"]["hashes"]["sha256"]
        )
    assert {name: version for name, (version, _, _) in chosen.items()} == _locked_versions()
    hashes = _locked_hashes()
    for name, (_, filename, digest) in chosen.items():
        assert filename.endswith("-none-any.whl") or "aarch64" in filename, f"{name}: {filename}"
        assert digest in hashes[name], f"{name}: {filename} has a sha256 the lock does not list"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_build_refuses_a_wheel_that_does_not_match_the_locked_hash(image, tmp_path):
    """The Dockerfile's install is hash-checked: with one hash in the lock changed, the same build over the
    same index fails naming the package, instead of installing an unverified file."""
    index = ROOT / ".build" / "index"
    assert (index / "simple" / "six" / "index.html").is_file(), "scripts/build_image.sh serves .build/index"
    context = tmp_path / "context"
    context.mkdir()
    for name in ("Dockerfile", ".dockerignore", "pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, context / name)
    shutil.copytree(ROOT / "source_personio", context / "source_personio",
                    ignore=shutil.ignore_patterns("__pycache__"))
    lock = (ROOT / "requirements-connector.lock").read_text()
    six = re.search(r"^six==\S+(?: \\\n\s+--hash=sha256:[0-9a-f]{64})+", lock, re.M)
    assert six, "six is pinned with hashes in the lock"
    forged = re.sub(r"sha256:[0-9a-f]{64}", "sha256:" + "0" * 64, six.group(0))
    (context / "requirements-connector.lock").write_text(lock.replace(six.group(0), forged))

    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", "--directory", str(index), str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    # The builder scripts/build_image.sh uses: BuildKit where the buildx plugin exists, else the legacy one.
    buildkit = subprocess.run(["docker", "buildx", "version"], capture_output=True).returncode == 0
    try:
        proc = subprocess.run(
            ["docker", "build", "--force-rm", "--network", "host", "--target", "builder",
             *(["--progress=plain"] if buildkit else []),
             "--build-arg", f"BASE_IMAGE={image['base']}",
             "--build-arg", f"PIP_INDEX_URL=http://127.0.0.1:{port}/simple", str(context)],
            capture_output=True, text=True, timeout=600, env={**os.environ, "DOCKER_BUILDKIT": "1" if buildkit else "0"},
        )
    finally:
        server.terminate()
        server.wait(timeout=30)
        # The failed build's cached steps (they carry the builder stage's label) are left dangling.
        _docker("image", "prune", "-f", "--filter", "label=io.airbyte.personio.stage=builder", check=False)
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0, "a build whose lock does not match the served wheel must fail"
    assert "DO NOT MATCH THE HASHES" in output and "six" in output, output[-3000:]
    assert "Successfully installed" not in output


def test_spec_in_container_equals_in_process(image):
    proc = _docker_run(None, "spec")
    specs = _of_type(_messages(proc.stdout), "SPEC")
    assert len(specs) == 1, proc.stdout[-2000:]
    spec = specs[0]["spec"]
    props = spec["connectionSpecification"]["properties"]
    assert {"client_id", "client_secret", "start_date", "base_url"} <= set(props)
    assert props["client_secret"].get("airbyte_secret") is True
    import jsonschema

    jsonschema.Draft7Validator.check_schema(spec["connectionSpecification"])
    assert spec == _in_process("spec", {})[0]["spec"]


def test_check_accepts_good_and_rejects_wrong_credentials(image, files, sandbox, data_dir):
    ok = _of_type(_run_container(data_dir, "check", "--config", "/data/config.json"), "CONNECTION_STATUS")
    assert [m["connectionStatus"]["status"] for m in ok] == ["SUCCEEDED"]

    wrong_secret = "wrong-" + "x" * 24
    _write(data_dir, "wrong_config.json", sandbox.config(client_secret=wrong_secret))
    proc = _docker_run(data_dir, "check", "--config", "/data/wrong_config.json")
    status = _of_type(_messages(proc.stdout), "CONNECTION_STATUS")
    assert [m["connectionStatus"]["status"] for m in status] == ["FAILED"], proc.stdout[-2000:]
    message = status[0]["connectionStatus"].get("message") or ""
    assert message.strip(), "a failed check must say why"
    assert wrong_secret not in proc.stdout + proc.stderr, "the secret leaked into the output"


def test_discover_in_container_equals_in_process(discovered, files):
    names = {s["name"] for s in discovered["streams"]}
    assert {
        "employees", "absence_types", "absences", "attendances", "projects", "document_categories",
        "custom_reports_list", "custom_reports", "employees_absences_balance",
    } <= names
    in_process = _of_type(_in_process("discover", files), "CATALOG")[0]["catalog"]
    assert discovered == in_process


def test_full_read_in_container_equals_in_process(full_read, discovered):
    pks = _pk_paths(discovered)
    container, in_process = full_read["container"], full_read["in_process"]
    counts = _record_counts(container)
    assert all(counts[s["name"]] > 0 for s in discovered["streams"]), f"empty streams in the container: {counts}"
    assert counts == _record_counts(in_process)
    assert _records_by_pk(container, pks) == _records_by_pk(in_process, pks)
    final = _comparable(_final_states(container))
    assert final and final == _comparable(_final_states(in_process))


@pytest.fixture
def pyairbyte_in_process():
    """PyAirbyte's package is called ``airbyte`` and, imported, sets ``propagate=False`` on the ``airbyte``
    logger the CDK logs through; put the logger back so later tests still see the connector's log lines."""
    log = logging.getLogger("airbyte")
    saved = (log.propagate, log.level, list(log.handlers), list(log.filters))
    yield
    log.propagate, level, log.handlers[:], log.filters[:] = saved
    log.setLevel(level)


def test_pyairbyte_runs_the_image_into_duckdb(image, sandbox, full_read, tmp_path, monkeypatch, pyairbyte_in_process):
    """PyAirbyte (how many users run Airbyte connectors from Python) can use the image itself."""
    monkeypatch.setenv("DO_NOT_TRACK", "1")
    monkeypatch.setenv("AIRBYTE_OFFLINE_MODE", "1")
    monkeypatch.setenv("NO_LIVE_PROGRESS", "1")
    import airbyte as ab
    import airbyte._executors.util as executors
    from airbyte.caches import DuckDBCache

    # PyAirbyte mounts <project dir>/<connector name> into the container; keep that out of the checkout.
    monkeypatch.setattr(executors, "DEFAULT_PROJECT_DIR", tmp_path)
    # The mounted temp dir must be reachable by the container's non-root user.
    tmp_path.chmod(0o755)
    source = ab.get_source(
        "source-personio", docker_image=IMAGE, use_host_network=True, config=sandbox.config()
    )
    streams = ["employees", "absence_types", "projects"]
    source.select_streams(streams)
    cache = DuckDBCache(db_path=tmp_path / "personio.duckdb", schema_name="main")
    result = source.read(cache=cache, force_full_refresh=True)
    expected = _record_counts(full_read["container"])
    assert {s: len(result[s]) for s in streams} == {s: expected[s] for s in streams}


def test_incremental_read_with_state_in_container_equals_in_process(full_read, discovered, sandbox, data_dir, files):
    pks = _pk_paths(discovered)
    state = _final_states(full_read["in_process"])
    incremental_streams = {s["name"] for s in discovered["streams"] if "incremental" in s.get("supported_sync_modes", [])}
    assert {"employees", "absences", "attendances"} <= incremental_streams
    assert incremental_streams <= set(state), f"no state for {incremental_streams - set(state)}"

    changes = sandbox.mutate(create=2, update=3, delete=1)
    catalog = _configured_catalog(discovered)
    catalog["streams"] = [c for c in catalog["streams"] if c["stream"]["name"] in incremental_streams]
    catalog_file = _write(data_dir, "incremental_catalog.json", catalog)
    state_file = _write(data_dir, "state.json", _state_input(state))

    container = _run_container(
        data_dir, "read", "--config", "/data/config.json", "--catalog", "/data/incremental_catalog.json",
        "--state", "/data/state.json",
    )
    in_process = _in_process("read", {"config": files["config"], "catalog": catalog_file, "state": state_file})

    assert _records_by_pk(container, pks) == _records_by_pk(in_process, pks)
    assert _record_counts(container) == _record_counts(in_process)
    # The two reads run at different moments: a cursor the connector bounded by its read's start (minus its
    # clock-skew margin, because records changed during this test) differs by the time between them; compare
    # everything else exactly and those bounds by their notation only.
    since = datetime.now(timezone.utc) - timedelta(minutes=30)
    assert _read_start_bounds_as_notation(_comparable(_final_states(container)), since) == \
        _read_start_bounds_as_notation(_comparable(_final_states(in_process)), since)

    # It is really incremental in the container: the changed employees come back, the unchanged bulk does not.
    employees = _records_by_pk(container, pks).get("employees", {})
    changed = set(changes["created"]["employees"]) | set(changes["updated"]["employees"])
    got = {json.loads(k[0]) for k in employees}
    assert changed <= got, f"changed employees missing from the incremental read: {changed - got}"
    full_employees = _record_counts(full_read["container"])["employees"]
    assert len(got) < full_employees / 2, f"incremental read returned {len(got)} of {full_employees} employees"


def _read_start_bounds_as_notation(state: Any, since: datetime) -> Any:
    """`state` with every timestamp later than `since` replaced by its notation (digits as 9)."""
    if isinstance(state, dict):
        return {k: _read_start_bounds_as_notation(v, since) for k, v in state.items()}
    if isinstance(state, list):
        return [_read_start_bounds_as_notation(v, since) for v in state]
    if isinstance(state, str) and len(state) > 10:
        try:
            moment = datetime.fromisoformat(state.replace("Z", "+00:00"))
        except ValueError:
            return state
        if moment.tzinfo and moment >= since:
            return "bound " + re.sub(r"\d", "9", state)
    return state


