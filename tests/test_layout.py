"""The package's layout: every module imports, dependencies point one way (no cycle, no import of
a higher layer), and the README's map names the sub-packages there are."""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "xmflow"
README = PACKAGE.parent / "README.md"

# The layers, lowest first. A module may import its own sub-package and lower layers; the modules
# at the top of the package (errors, i18n, values, model, ...) are the lowest layer of all.
LAYERS: list[set[str]] = [
    {""},
    {"procedure", "records", "git"},
    {"rules", "money"},
    {"changes", "trust", "forms", "reports", "notify"},
    {"cli"},
]
LAYER = {package: rank for rank, packages in enumerate(LAYERS) for package in packages}


def _name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _package(module: str) -> str:
    """The sub-package a module is in ("" for the top of the package)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and (PACKAGE / parts[1]).is_dir() else ""


def imports(module: str) -> set[str]:
    """The xmflow modules *module* imports anywhere in it: at the top, in a function, under
    TYPE_CHECKING."""
    found = set()
    for node in ast.walk(ast.parse(MODULES[module].read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "xmflow")
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module.split(".")[0] != "xmflow":
                continue
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                found.add(sub if sub in MODULES else node.module)
    return {name for name in found if name in MODULES and name != module} - {"xmflow"}


GRAPH = {module: imports(module) for module in MODULES}


@pytest.mark.parametrize("module", sorted(set(MODULES) - {"xmflow.__main__"}))
def test_every_module_imports(module):
    importlib.import_module(module)


def test_every_sub_package_has_a_layer():
    packages = {_package(m) for m in MODULES}
    assert packages == set(LAYER), f"give each sub-package a layer here: {sorted(packages ^ set(LAYER))}"


def test_no_module_imports_a_higher_layer():
    upward = sorted(f"{m} imports {dep}" for m, deps in GRAPH.items() for dep in deps
                    if LAYER[_package(dep)] > LAYER[_package(m)])
    assert not upward, "\n".join(upward)


def test_within_a_layer_packages_do_not_import_each_other_both_ways():
    edges = {(_package(m), _package(d)) for m, deps in GRAPH.items() for d in deps if _package(m) != _package(d)}
    both = sorted(f"{a} <-> {b}" for a, b in edges if (b, a) in edges and a < b)
    assert not both, "\n".join(both)


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


def test_the_readme_map_names_every_sub_package():
    text = README.read_text(encoding="utf-8")
    section = text.split("### Where things live", 1)[1].split("\n## ", 1)[0]
    named = set(re.findall(r"^- `xmflow/(\w+)/`", section, flags=re.M))
    packages = {_package(m) for m in MODULES} - {""}
    assert named == packages, f"README's map and the folders differ: {sorted(named ^ packages)}"
    for package in packages:
        assert (PACKAGE / package / "__init__.py").read_text(encoding="utf-8").startswith('"""'), package
