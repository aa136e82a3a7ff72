"""The package's layout: every module imports, dependencies point one way (no cycle, no import of
a sub-package the README's map lists later), and the map names the sub-packages there are."""

from __future__ import annotations

import ast
import importlib
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "xmflow"
README = PACKAGE.parent / "README.md"


def readme_map() -> list[str]:
    """The sub-packages the README's "Where things live" names, in its order (the lowest first)."""
    section = README.read_text(encoding="utf-8").split("### Where things live", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^- `xmflow/(\w+)/`", section, flags=re.M)


# A module may import the top of the package, its own sub-package and those the README lists
# before it: the README's map is the order of the layers.
ORDER = ["", *readme_map()]
LAYER = {package: rank for rank, package in enumerate(ORDER)}


def _name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _package(module: str) -> str:
    """The sub-package a module is in ("" for the top of the package; ``python -m xmflow`` is the
    command line's)."""
    if module == "xmflow.__main__":
        return "cli"
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and (PACKAGE / parts[1]).is_dir() else ""


def imports(module: str, source: str | None = None) -> set[str]:
    """The xmflow modules *module* imports anywhere in it: at the top, in a function, under
    TYPE_CHECKING, relatively (``from ..records import stages``) or by name
    (``importlib.import_module("xmflow.…")``, ``__import__``)."""
    found = set()
    package = module.split(".") if MODULES.get(module, Path()).name == "__init__.py" else module.split(".")[:-1]
    for node in ast.walk(ast.parse(source if source is not None else MODULES[module].read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "xmflow")
        elif isinstance(node, ast.ImportFrom):
            base = ".".join([*package[: len(package) - node.level + 1], *([node.module] if node.module else [])])
            target = base if node.level else node.module or ""
            if target.split(".")[0] != "xmflow":
                continue
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                found.add(sub if sub in MODULES else target)
        elif (
            isinstance(node, ast.Call)
            and (getattr(node.func, "attr", None) == "import_module" or getattr(node.func, "id", None) == "__import__")
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and str(node.args[0].value).split(".")[0] == "xmflow"
        ):
            found.add(str(node.args[0].value))
    return {name for name in found if name in MODULES and name != module} - {"xmflow"}


def test_relative_and_named_imports_are_seen():
    source = (
        "from ..records import stages\nfrom . import console\n"
        "import importlib\nimportlib.import_module('xmflow.notify.mail')\n"
    )
    assert imports("xmflow.cli.app", source) == {"xmflow.records.stages", "xmflow.cli.console", "xmflow.notify.mail"}


GRAPH = {module: imports(module) for module in MODULES}


@pytest.mark.parametrize("module", sorted(set(MODULES) - {"xmflow.__main__"}))
def test_every_module_imports(module):
    importlib.import_module(module)


def test_the_readme_map_names_every_sub_package_once():
    packages = {_package(m) for m in MODULES} - {""}
    named = readme_map()
    assert sorted(named) == sorted(packages), f"README's map and the folders differ: {sorted(set(named) ^ packages)}"
    for package in packages:  # each says what it holds
        assert (PACKAGE / package / "__init__.py").read_text(encoding="utf-8").startswith('"""'), package


IMPORT_NAMES = {"pyyaml": "yaml"}  # a distribution whose import name differs from its own


def test_every_declared_dependency_is_imported():
    """No dependency is declared and left unused (GitPython was, once): each one the package
    requires is imported by some module of it."""
    declared = tomllib.loads((PACKAGE.parent / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]
    names = {re.split(r"[<>=!~\[; ]", spec, maxsplit=1)[0].lower() for spec in declared}
    imported = set()
    for path in MODULES.values():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported.update(a.name.split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                imported.add(node.module.split(".")[0])
    assert names and {n for n in names if IMPORT_NAMES.get(n, n) not in imported} == set()


def upward(graph: dict[str, set[str]]) -> list[str]:
    """The imports of a sub-package that the README's map lists after the importer's."""
    return sorted(
        f"{m} imports {dep}" for m, deps in graph.items() for dep in deps if LAYER[_package(dep)] > LAYER[_package(m)]
    )


def test_no_module_imports_a_later_sub_package():
    assert upward(GRAPH) == []


def test_an_upward_import_is_found():
    assert upward(
        {
            "xmflow.records.workspace": {"xmflow.notify.mail", "xmflow.git.store"},
            "xmflow.values": {"xmflow.cli.console"},
        }
    ) == ["xmflow.records.workspace imports xmflow.notify.mail", "xmflow.values imports xmflow.cli.console"]


def runs_git(module: str) -> list[int]:
    """The lines where *module* starts git itself (``subprocess.run(["git", ...])`` and the like)."""
    lines = []
    for node in ast.walk(ast.parse(MODULES[module].read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.List | ast.Tuple):
            first = node.args[0].elts[0] if node.args[0].elts else None
            if isinstance(first, ast.Constant) and first.value == "git":
                lines.append(node.lineno)
    return lines


def test_only_the_git_package_runs_git():
    outside = {m: runs_git(m) for m in MODULES if _package(m) != "git"}
    assert {m: lines for m, lines in outside.items() if lines} == {}
    assert runs_git("xmflow.git.store"), "the finder finds git where it runs"


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The import cycles (strongly connected components of more than one module, or a module that
    imports itself), by Tarjan's algorithm."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1 or node in graph[node]:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycle():
    assert cycles(GRAPH) == []


def test_the_cycle_finder_finds_cycles():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def calls_the_git_runner(source: str) -> list[int]:
    """The lines where *source* calls store's generic git runner (``store.git(…)``,
    ``store._git(…)``, under whatever name the module has for store) instead of one of its named
    operations."""
    return sorted(
        node.lineno
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in {"git", "_git"}
    )


def test_outside_the_git_package_git_is_run_by_named_operations():
    outside = {m: calls_the_git_runner(MODULES[m].read_text(encoding="utf-8")) for m in MODULES if _package(m) != "git"}
    assert {m: lines for m, lines in outside.items() if lines} == {}


def test_a_call_of_the_git_runner_is_found():
    source = 'store.git(root, "fetch")\nx = store._git(root, "push")\nstore.fetch(root, "origin", "main", "t")\n'
    assert calls_the_git_runner(source) == [1, 2]
    assert calls_the_git_runner("s.git(root)\nstore.git_dir(root)\n") == [1]  # under any name


def git_imports(graph: dict[str, set[str]], module: str) -> list[str]:
    """The modules of the ``git`` sub-package that *module* imports itself."""
    return sorted(dep for dep in graph[module] if _package(dep) == "git")


def test_the_form_model_reads_no_git():
    assert git_imports(GRAPH, "xmflow.forms.model") == []


def test_an_import_of_git_is_found():
    assert git_imports({"xmflow.forms.model": {"xmflow.git.store", "xmflow.values"}}, "xmflow.forms.model") == [
        "xmflow.git.store"
    ]
    assert git_imports(GRAPH, "xmflow.forms.rendering") == ["xmflow.git.store"]  # the caller reads git


def test_the_command_line_loads_no_mail_nor_form_code_until_a_command_needs_it():
    """Every command pays for what the command line imports at start: the mail (smtplib, ssl) and
    the forms (jinja2) load only for the commands that send or print."""
    heavy = {"smtplib", "ssl", "xmflow.notify.mail", "jinja2"}
    probe = f"import sys, xmflow.cli.entry; print(sorted({heavy!r} & set(sys.modules)))"
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.strip()
    assert loaded == "[]", loaded


# The modules outside git/ that may start a program, and what they start.
RUNS_A_PROGRAM = {"xmflow.cli.app": "the user's $EDITOR for `xmflow edit`"}


def starts_programs(source: str) -> bool:
    """Whether *source* can start another program: it imports subprocess, or calls os.system,
    os.popen, os.exec* or os.spawn*."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import) and any(a.name == "subprocess" for a in node.names):
            return True
        if isinstance(node, ast.ImportFrom) and node.module == "subprocess":
            return True
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "os":
            if node.attr in {"system", "popen"} or node.attr.startswith(("exec", "spawn")):
                return True
    return False


def test_outside_the_git_package_no_module_starts_git_nor_another_program():
    found = {m for m in MODULES if _package(m) != "git" and starts_programs(MODULES[m].read_text(encoding="utf-8"))}
    assert found == set(RUNS_A_PROGRAM), sorted(found ^ set(RUNS_A_PROGRAM))


def test_a_module_that_starts_a_program_is_found():
    assert starts_programs("import subprocess\n") and starts_programs("import os\nos.system('git push')\n")
    assert starts_programs("from subprocess import run\n") and not starts_programs("import os\nos.path.join('a')\n")
