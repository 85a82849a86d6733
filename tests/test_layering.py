"""The shape of the house: which package may import which, how commands are registered, and
that comments and docstrings stand on their own (ARCHITECTURE.md draws the same picture)."""

from __future__ import annotations

import ast
import configparser
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("audiomarathon", "audiomarathon_dataset", "audiomarathon_metric", "audiomarathon_runner", "space")
# package -> the repository packages it may import (written from the architecture, not the code)
ALLOWED = {
    "audiomarathon": set(),
    "audiomarathon_dataset": {"audiomarathon"},
    "audiomarathon_metric": {"audiomarathon"},
    "audiomarathon_runner": {"audiomarathon", "audiomarathon_metric", "audiomarathon_dataset"},
    "space": {"audiomarathon", "audiomarathon_metric"},
}


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, top-level package) of every absolute import, lazy ones inside functions included."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            out += [(node.lineno, alias.name.split(".")[0]) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            out.append((node.lineno, node.module.split(".")[0]))
    return out


def _module_strings(path: Path) -> list[tuple[int, str]]:
    """String constants that look like dotted module paths (what importlib.import_module takes)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    return [(n.lineno, n.value) for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)
            and re.fullmatch(r"[A-Za-z_][\w]*(\.[A-Za-z_]\w*)+(:\w+)?", n.value)]


@pytest.mark.parametrize("package", PACKAGES)
def test_every_import_follows_the_dependency_direction(package):
    bad = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for line, top in _imports(path):
            if top in PACKAGES and top != package and top not in ALLOWED[package]:
                bad.append(f"{path.relative_to(ROOT)}:{line} imports {top}")
        # Naming an upper package's module as a string (to import it later) is an import too.
        for line, text in _module_strings(path):
            top = text.split(".")[0]
            if top in PACKAGES and top != package and top not in ALLOWED[package]:
                bad.append(f"{path.relative_to(ROOT)}:{line} names {text!r}")
    assert bad == []


def test_the_checker_sees_lazy_and_string_imports(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text("def f():\n    from space.app import serve\n    return 'audiomarathon_runner.commands.run'\n")
    assert (2, "space") in _imports(probe)
    assert (3, "audiomarathon_runner.commands.run") in _module_strings(probe)


def _module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _module_graph(root: Path, packages) -> dict[str, set[str]]:
    """module -> the modules of the repository it imports: every import, lazy ones inside functions
    and ``if TYPE_CHECKING:`` ones included, each to the most specific module it names
    (``from . import x`` is the module ``x`` when there is one, else the package)."""
    paths = {_module_name(root, p): p for package in packages for p in sorted((root / package).rglob("*.py"))}
    graph: dict[str, set[str]] = {}
    for module, path in paths.items():
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                found |= {alias.name for alias in node.names if alias.name in paths}
            elif isinstance(node, ast.ImportFrom):
                base = package
                for _ in range(node.level - 1):
                    base = base.rpartition(".")[0]
                target = node.module if not node.level else ".".join(p for p in (base, node.module) if p)
                named = {f"{target}.{alias.name}" for alias in node.names} & set(paths)
                found |= named
                if target in paths and (node.module or not named):
                    found.add(target)
        graph[module] = found - {module}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The import cycles of ``graph``: its strongly connected parts of more than one module."""
    order: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        order[v] = low[v] = len(order)
        stack.append(v)
        for w in sorted(graph[v]):
            if w not in order:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], order[w])
        if low[v] == order[v]:
            part = []
            while not part or part[-1] != v:
                part.append(stack.pop())
            if len(part) > 1:
                found.append(sorted(part))

    for v in sorted(graph):
        if v not in order:
            visit(v)
    return found


def test_no_import_cycle_inside_a_package():
    """A cycle hidden by a lazy or TYPE_CHECKING import is still a knot: two modules that can only
    be understood together. Each package's modules import one way."""
    assert _cycles(_module_graph(ROOT, PACKAGES)) == []


def test_the_cycle_checker_sees_lazy_and_type_checking_imports(tmp_path):
    probe = tmp_path / "probe"
    (probe / "sub").mkdir(parents=True)
    (probe / "__init__.py").write_text("")
    (probe / "sub" / "__init__.py").write_text("")
    (probe / "a.py").write_text("def f():\n    from .sub import b\n")
    (probe / "sub" / "b.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ..c import X\n")
    (probe / "c.py").write_text("from . import a\n")
    (probe / "d.py").write_text("import probe.c\n")
    graph = _module_graph(tmp_path, ("probe",))
    assert graph["probe.sub.b"] == {"probe.c"} and graph["probe.c"] == {"probe.a"}
    assert _cycles(graph) == [["probe.a", "probe.c", "probe.sub.b"]]


def test_commands_are_registered_by_their_packages_entry_points():
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    declared = cfg["options.entry_points"]["audiomarathon.commands"].split("\n")
    targets = {line.split("=")[1].strip() for line in declared if "=" in line}
    assert targets == {f"{p}.commands:COMMANDS" for p in PACKAGES if p != "audiomarathon"}
    from audiomarathon.cli import CORE_COMMANDS, commands

    table = commands()
    # Each package's table is the one the dispatcher uses, and names only that package's modules.
    for target in targets:
        module, _, attr = target.partition(":")
        package_table = getattr(__import__(module, fromlist=[attr]), attr)
        for name, command in package_table.items():
            assert table[name] == command, f"{name}: stale entry-point metadata? reinstall with pip install -e ."
            assert command.module.startswith(module.split(".")[0] + ".")
    assert set(CORE_COMMANDS) == {"tasks"}
    order = list(table)
    assert order.index("import-release") < order.index("run") < order.index("score") < order.index("serve")


def test_help_imports_no_command_module_and_no_heavy_library():
    code = ("import sys; from audiomarathon.cli import main; main(['--help']); "
            "print(sorted(m for m in sys.modules if m.endswith(('.commands.run', '.commands.serve', "
            "'.commands.build', '.commands.score')) or m in ('torch', 'scipy', 'gradio', 'datasets')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_the_space_is_an_installable_package_of_core_and_metric():
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    include = cfg["options.packages.find"]["include"].split()
    assert "space" in include and "space.*" in include


def test_comments_and_docstrings_cite_nothing_outside_the_repository():
    pattern = re.compile(r"DESIGN\.md|DESIGN §|\bissue \d+\b|/work/|\bshared/", re.IGNORECASE)
    bad = []
    for path in sorted(ROOT.rglob("*")):
        parts = set(path.relative_to(ROOT).parts)
        if parts & {".venv", ".git", "node_modules", "test-artifacts"} or not path.is_file():
            continue
        if path.suffix not in {".py", ".md", ".sh", ".cfg", ".toml"} and path.name != "Makefile":
            continue
        if path.name == "test_layering.py":
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            if pattern.search(line):
                bad.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()[:100]}")
    assert bad == []


def test_the_metric_packages_lazy_exports_are_the_functions_not_modules():
    code = ("import importlib, pkgutil, types, audiomarathon_metric as m\n"
            "for info in pkgutil.iter_modules(m.__path__):\n"
            "    if info.name not in ('app', 'export', 'long_plots'):\n"
            "        importlib.import_module('audiomarathon_metric.' + info.name)\n"
            "bad = [n for n in m.__all__ if isinstance(getattr(m, n), types.ModuleType)]\n"
            "print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "[]"
