"""The sandbox package's structure: every module imports on its own and no two modules import each other
(directly or through others), so a module can be read and changed without loading the whole package."""
from __future__ import annotations

import ast
import pathlib
import subprocess
import sys

import personio_sandbox

PKG_DIR = pathlib.Path(personio_sandbox.__file__).parent


def _modules() -> dict[str, pathlib.Path]:
    out = {}
    for p in sorted(PKG_DIR.rglob("*.py")):
        rel = p.relative_to(PKG_DIR).with_suffix("")
        parts = ["personio_sandbox", *rel.parts]
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = p
    return out


def _package_of(name: str, path: pathlib.Path) -> str:
    return name if path.name == "__init__.py" else name.rsplit(".", 1)[0]


def _imports(name: str, path: pathlib.Path, known: set[str]) -> set[str]:
    """Package modules that ``name`` imports anywhere in its source (top level or inside functions)."""
    pkg = _package_of(name, path)
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("personio_sandbox"))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = pkg.split(".")
                base = base[: len(base) - (node.level - 1)]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            if not mod.startswith("personio_sandbox"):
                continue
            for a in node.names:  # "from . import data" names a module, "from .data import DAY" a name in one
                sub = mod + "." + a.name
                found.add(sub if sub in known else mod)
    return {m for m in found if m in known and m != name}


def test_every_sandbox_module_imports_on_its_own():
    names = [n for n in _modules() if not n.endswith("__main__")]
    assert len(names) >= 25, names  # errors, paging, auth, rate limits, one module per resource family, ...
    failed = {}
    for n in names:
        r = subprocess.run([sys.executable, "-c", "import %s" % n], capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            failed[n] = r.stderr.strip().splitlines()[-1:]
    assert failed == {}


def test_no_import_cycle_between_sandbox_modules():
    mods = _modules()
    known = set(mods)
    graph = {n: _imports(n, p, known) - {"personio_sandbox"} for n, p in mods.items()}
    cycles = []
    state: dict[str, int] = {}

    def visit(n, stack):
        state[n] = 1
        for m in sorted(graph[n]):
            if state.get(m) == 1:
                cycles.append(stack[stack.index(m):] + [m])
            elif m not in state:
                visit(m, stack + [m])
        state[n] = 2

    for n in sorted(graph):
        if n not in state:
            visit(n, [n])
    assert cycles == []


def test_the_import_graph_sees_the_imports_that_exist():
    """The cycle check is only as good as its graph: the known edges of the package must be in it."""
    mods = _modules()
    known = set(mods)
    graph = {n: _imports(n, p, known) for n, p in mods.items()}
    assert "personio_sandbox.data" in graph["personio_sandbox.mutate"]
    assert "personio_sandbox.clock" in graph["personio_sandbox.data"]
    assert "personio_sandbox.resources.employees" in graph["personio_sandbox.routes"]
    assert "personio_sandbox.context" in graph["personio_sandbox.resources.persons"]


def test_one_public_sandbox_class():
    """``personio_sandbox.testing.Sandbox`` is the only class of that name (the server keeps its state in
    ``ServerState``)."""
    owners = []
    for n, p in _modules().items():
        for node in ast.parse(p.read_text()).body:
            if isinstance(node, ast.ClassDef) and node.name == "Sandbox":
                owners.append(n)
    assert owners == ["personio_sandbox.testing"]
