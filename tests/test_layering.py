"""The import contract between fitdoctor's packages, read statically from the source (no
import is executed): diagnosis never imports report, store or training; history never imports
training or diagnosis; store and schedules never import training. Checked on every import
statement, at module level or inside a function (a lazy import still couples the packages),
absolute or relative, and also through other fitdoctor modules (diagnosis -> history -> training
breaks the contract as much as diagnosis -> training). The command line (cli.py and the command
modules under commands/) sits above them all: it imports the library, the library never imports
it, and a command module never imports cli.py (cli.py registers the commands). It stays thin:
each of its modules under 300 lines, each function at most 60."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
ROOT = "fitdoctor"

NEVER = {
    "diagnosis": {"report", "store", "training"},
    "history": {"training", "diagnosis"},
    "store": {"training"},
    "schedules": {"training"},
}


FRONT = ("cli", "commands", "__main__")     # the command line: fitdoctor.cli, fitdoctor.commands.*
MAX_MODULE_LINES, MAX_FUNCTION_LINES = 300, 60


def module_name(path: Path, src: Path = SRC) -> str:
    parts = list(path.relative_to(src).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(source: str, module: str, is_package: bool) -> set[str]:
    """Every module an import statement in ``source`` names, as an absolute dotted name.
    ``from X import a`` counts X and X.a (a may be a submodule); relative imports are resolved
    against ``module``'s package (a package's ``__init__`` is its own package)."""
    package = module.split(".") if is_package else module.split(".")[:-1]
    out: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                if node.level - 1 > len(package):
                    raise ValueError(f"{module}: relative import beyond the top package")
                base = package[: len(package) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            out.add(target)
            out.update(f"{target}.{alias.name}" for alias in node.names if alias.name != "*")
        elif (isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", None))
              == "import_module" and node.args and isinstance(node.args[0], ast.Constant)
              and isinstance(node.args[0].value, str) and not node.args[0].value.startswith(".")):
            out.add(node.args[0].value)
    return out


def import_graph(src: Path = SRC) -> dict[str, set[str]]:
    """fitdoctor module -> the fitdoctor modules it imports, including the ``__init__`` of every
    package on the way (importing a.b.c runs a/__init__ and a/b/__init__); the top package's own
    ``__init__`` is the public entry point, not a layer, and is left out."""
    files = {module_name(p, src): p for p in (src / ROOT).rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for mod, path in files.items():
        names = imported_modules(path.read_text(encoding="utf-8"), mod, path.name == "__init__.py")
        deps = set()
        for name in names:
            parts = name.split(".")
            if parts[0] != ROOT:
                continue
            for i in range(2, len(parts) + 1):           # the packages on the way, then the module
                prefix = ".".join(parts[:i])
                if prefix in files and prefix != mod:
                    deps.add(prefix)
        graph[mod] = deps
    return graph


def reachable(graph: dict[str, set[str]], start: str) -> dict[str, list[str]]:
    """Every module reachable from ``start``, with one import chain that reaches it."""
    chains = {start: [start]}
    todo = [start]
    while todo:
        mod = todo.pop()
        for dep in sorted(graph.get(mod, ())):
            if dep not in chains:
                chains[dep] = chains[mod] + [dep]
                todo.append(dep)
    return chains


def violations(graph: dict[str, set[str]], never: dict[str, set[str]] = NEVER) -> list[str]:
    out = []
    for pkg, forbidden in never.items():
        for mod in sorted(m for m in graph if m == f"{ROOT}.{pkg}" or m.startswith(f"{ROOT}.{pkg}.")):
            for dep, chain in reachable(graph, mod).items():
                layer = dep.split(".")[1] if dep.count(".") else None
                if layer in forbidden:
                    out.append(f"{pkg} imports {layer}: {' -> '.join(chain)}")
                    break
    return out


def front_violations(graph: dict[str, set[str]]) -> list[str]:
    """A library module that imports the command line, directly or through another module; a
    command module that imports cli."""
    def layer(mod: str) -> str | None:
        return mod.split(".")[1] if mod.count(".") else None

    out = []
    for mod in sorted(graph):
        if layer(mod) in ("cli", "__main__"):
            continue
        banned = {"cli", "__main__"} if layer(mod) == "commands" else set(FRONT)
        for dep, chain in reachable(graph, mod).items():
            if layer(dep) in banned:
                out.append(f"{mod} imports the command line: {' -> '.join(chain)}")
                break
    return out


def test_the_packages_keep_the_import_contract():
    graph = import_graph()
    assert {f"{ROOT}.{p}" for p in NEVER} <= set(graph)          # the scan found the packages
    assert "fitdoctor.history.core" in graph["fitdoctor.store.runstore"]   # and sees a lazy import
    assert violations(graph) == []


def test_the_library_never_imports_the_command_line():
    graph = import_graph()
    assert f"{ROOT}.commands.diagnose" in graph[f"{ROOT}.cli"]              # the scan sees the commands
    assert f"{ROOT}.diagnosis" in reachable(graph, f"{ROOT}.commands.diagnose")   # which use the library
    assert front_violations(graph) == []


def test_the_command_line_stays_thin():
    files = [SRC / ROOT / "cli.py", *sorted((SRC / ROOT / "commands").glob("*.py"))]
    assert len(files) > 3
    too_long = []
    for path in files:
        text = path.read_text(encoding="utf-8")
        name = path.relative_to(SRC / ROOT)
        if len(text.splitlines()) >= MAX_MODULE_LINES:
            too_long.append(f"{name}: {len(text.splitlines())} lines")
        too_long += [f"{name}:{n.lineno} {n.name}: {n.end_lineno - n.lineno + 1} lines"
                     for n in ast.walk(ast.parse(text)) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
                     and n.end_lineno - n.lineno + 1 > MAX_FUNCTION_LINES]
    assert too_long == []


@pytest.mark.parametrize("module, is_package, line, expected", [
    ("fitdoctor.diagnosis.engine", False, "from ..training import config", "fitdoctor.training.config"),
    ("fitdoctor.diagnosis.engine", False, "from ..training.config import RunConfig", "fitdoctor.training.config"),
    ("fitdoctor.diagnosis.engine", False, "from .. import training", "fitdoctor.training"),
    ("fitdoctor.diagnosis", True, "from ..store import RunStore", "fitdoctor.store"),
    ("fitdoctor.diagnosis", True, "from .engine import diagnose", "fitdoctor.diagnosis.engine"),
    ("fitdoctor.history.readers.text", False, "from ...diagnosis import x", "fitdoctor.diagnosis"),
    ("fitdoctor.history.readers", True, "from ..core import History", "fitdoctor.history.core"),
    ("fitdoctor.store", True, "import fitdoctor.training.runner as r", "fitdoctor.training.runner"),
    ("fitdoctor.store", True, "def f():\n    import importlib\n    importlib.import_module('fitdoctor.training')",
     "fitdoctor.training"),
])
def test_imports_are_resolved_as_python_does(module, is_package, line, expected):
    assert expected in imported_modules(line, module, is_package)


def test_a_planted_import_is_caught_directly_and_through_another_module(tmp_path):
    pkg = tmp_path / ROOT
    for sub in ("diagnosis", "history", "training", "report"):
        (pkg / sub).mkdir(parents=True)
        (pkg / sub / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("from .diagnosis import x\n")
    (pkg / "report" / "html.py").write_text("X = 1\n")
    (pkg / "diagnosis" / "engine.py").write_text("def f():\n    from ..report.html import X\n")
    (pkg / "history" / "core.py").write_text("from ..training import y\n")
    (pkg / "diagnosis" / "stats.py").write_text("from ..history.core import z\n")
    found = violations(import_graph(tmp_path))
    assert any(v.startswith("diagnosis imports report: fitdoctor.diagnosis.engine -> fitdoctor.report")
               for v in found)
    assert any(v.startswith("diagnosis imports training: fitdoctor.diagnosis.stats -> "
                            "fitdoctor.history.core -> fitdoctor.training") for v in found)
    assert any(v.startswith("history imports training: fitdoctor.history.core") for v in found)
    (pkg / "history" / "core.py").write_text("Y = 1\n")
    (pkg / "diagnosis" / "engine.py").write_text("from .stats import z\n")
    assert violations(import_graph(tmp_path)) == []


def test_an_import_of_the_command_line_is_caught(tmp_path):
    pkg = tmp_path / ROOT
    for sub in ("commands", "report"):
        (pkg / sub).mkdir(parents=True)
        (pkg / sub / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("")
    (pkg / "cli.py").write_text("from .commands import runs\n")
    (pkg / "commands" / "runs.py").write_text("from ..report.text import x\n")
    (pkg / "report" / "text.py").write_text("x = 1\n")
    assert front_violations(import_graph(tmp_path)) == []           # cli -> commands -> library
    (pkg / "report" / "text.py").write_text("def f():\n    from ..commands.common import y\n")
    assert front_violations(import_graph(tmp_path)) == [
        "fitdoctor.report.text imports the command line: fitdoctor.report.text -> fitdoctor.commands"]
    (pkg / "report" / "__init__.py").write_text("from .text import f\n")       # and through a module
    assert front_violations(import_graph(tmp_path))[0] == ("fitdoctor.report imports the command line: "
                                                           "fitdoctor.report -> fitdoctor.report.text -> fitdoctor.commands")
    (pkg / "report" / "text.py").write_text("x = 1\n")
    (pkg / "commands" / "runs.py").write_text("from .. import cli\n")
    assert front_violations(import_graph(tmp_path)) == [
        "fitdoctor.commands.runs imports the command line: fitdoctor.commands.runs -> fitdoctor.cli"]


def _reexport_only(node: ast.stmt) -> bool:
    """A docstring, an import, ``__all__``/``__version__``, or a module ``__getattr__`` that
    imports on first use and returns what it imported."""
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return True
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
        return True
    if isinstance(node, ast.Assign):
        return all(isinstance(t, ast.Name) and t.id in ("__all__", "__version__") for t in node.targets)
    return isinstance(node, ast.FunctionDef) and node.name == "__getattr__"


@pytest.mark.parametrize("init", sorted(str(p.relative_to(SRC / ROOT)) for p in (SRC / ROOT).rglob("__init__.py")))
def test_package_inits_only_re_export(init):
    """A package's ``__init__.py`` names what it offers; the code lives in named modules."""
    body = ast.parse((SRC / ROOT / init).read_text(encoding="utf-8")).body
    assert [type(n).__name__ for n in body if not _reexport_only(n)] == []
