"""Import direction inside `assistant/`: no cycles, and every import goes down the layers.

Reads the source with `ast` (nothing is imported, so this runs in milliseconds) and builds
the graph of the package's imports of itself, module-level and inside functions alike: an
import hidden in a function still ties the two modules together, it only hides the tie.
`from . import x` and `from .pkg import x` count as imports of the module `x` when `x` is one.

Layers, lowest first. A module may import its own layer and the ones below. Each module
must match exactly one layer, so a new module has to be placed before the test passes.
"""

from __future__ import annotations

import ast
import fnmatch
from pathlib import Path

import pytest

PACKAGE = "assistant"
SOURCE = Path(__file__).resolve().parent.parent / PACKAGE

LAYERS: list[tuple[str, tuple[str, ...]]] = [
    # plain data and rules every stage shares: no I/O of their own
    ("core", ("assistant", "assistant.core", "assistant.core.*")),
    # files -> Documents -> Segments -> Chunks
    ("ingest", ("assistant.ingest", "assistant.ingest.*")),
    # where chunks are kept and how they are found: SQLite catalogue, Chroma, BM25, the vector
    # matrix, the embedder
    ("index", ("assistant.index", "assistant.index.*")),
    # hybrid search, fusion and item expansion, and the MinutesIndex that assembles the parts
    ("retrieve", ("assistant.retrieve", "assistant.retrieve.*")),
    # question -> evidence -> extractive or LLM answer -> checked citations
    ("answer", ("assistant.answer", "assistant.answer.*")),
    # decision records: extraction, register, history, answers from records, their commands
    ("decisions", ("assistant.decisions", "assistant.decisions.*")),
    # what a person runs: command line, web UI, evaluation, benchmark. `assistant.cli` is the
    # entry point that `minutes` installs made before the move still name (it only re-exports)
    ("app", ("assistant.app", "assistant.app.*", "assistant.cli")),
]

# Upward imports that remain. This list may only shrink: an entry whose import is gone fails
# the test, so that it is removed here too. It is empty: what a lower layer needs from a higher
# one is passed in by the caller (ingest writes into the index it is given, with the file
# record and token counter the index hands over; the answer service is given the decision
# records' answerer; the index layer, not the settings, resolves the embedding backend).
ALLOWED_UPWARD: dict[tuple[str, str], str] = {}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SOURCE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(SOURCE.rglob("*.py"))}


def _targets(node: ast.AST, module: str, is_package: bool, known: set[str]) -> list[str]:
    """The package's own modules an import statement loads."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names if a.name in known]
    assert isinstance(node, ast.ImportFrom)
    if node.level:
        base = module.split(".") if is_package else module.split(".")[:-1]
        base = base[: len(base) - (node.level - 1)]
        base_name = ".".join(base + ([node.module] if node.module else []))
    else:
        base_name = node.module or ""
    out = []
    for alias in node.names:
        sub = f"{base_name}.{alias.name}"
        if sub in known:
            out.append(sub)
        elif base_name in known:
            out.append(base_name)
    return out


def import_graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for module, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                for target in _targets(node, module, path.name == "__init__.py", known):
                    if target != module:
                        graph[module].add(target)
    return graph


def layer_of(module: str) -> int:
    found = [i for i, (_, patterns) in enumerate(LAYERS) if any(fnmatch.fnmatchcase(module, p) for p in patterns)]
    assert len(found) == 1, (
        f"{module} matches {'no layer' if not found else 'layers ' + str([LAYERS[i][0] for i in found])}: "
        "add it to exactly one layer in LAYERS"
    )
    return found[0]


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each as one cycle path."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                components.append(_a_cycle(graph, set(component)))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return components


def _a_cycle(graph: dict[str, set[str]], component: set[str]) -> list[str]:
    """One concrete cycle inside a strongly connected component, for the failure message."""
    start = min(component)
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        nxt = []
        for v in frontier:
            for w in sorted(graph[v] & component):
                if w == start:
                    return paths[v] + [start]
                if w not in paths:
                    paths[w] = paths[v] + [w]
                    nxt.append(w)
        frontier = nxt
    return sorted(component)


def upward_imports(graph: dict[str, set[str]]) -> set[tuple[str, str]]:
    return {(a, b) for a, targets in graph.items() for b in targets if layer_of(b) > layer_of(a)}


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    return import_graph()


def test_the_graph_sees_the_package(graph):
    assert len(graph) > 30
    assert "assistant.decisions.register" in graph["assistant.decisions.report"]
    assert "assistant.core.access" in graph["assistant.ingest.pipeline"]  # `from ..core import access`
    assert "assistant.ingest.pipeline" in graph["assistant.ingest.watch"]  # inside a function


def test_no_import_cycles(graph):
    found = cycles(graph)
    assert not found, "import cycles:\n" + "\n".join(" -> ".join(c) for c in found)


def test_every_module_has_one_layer(graph):
    for module in graph:
        layer_of(module)


def test_imports_go_down_the_layers(graph):
    upward = upward_imports(graph)
    new = sorted(upward - set(ALLOWED_UPWARD))
    assert not new, "imports up the layers (" + " < ".join(name for name, _ in LAYERS) + "):\n" + "\n".join(
        f"{a} ({LAYERS[layer_of(a)][0]}) imports {b} ({LAYERS[layer_of(b)][0]})" for a, b in new
    )


def test_the_allow_list_only_shrinks(graph):
    gone = sorted(set(ALLOWED_UPWARD) - upward_imports(graph))
    assert not gone, "no longer imported upward, remove from ALLOWED_UPWARD:\n" + "\n".join(f"{a} -> {b}" for a, b in gone)


def test_the_checks_catch_a_cycle_and_an_upward_import(graph):
    """The checks themselves: a cycle and an upward import added to a copy of the graph are found."""
    broken = {m: set(t) for m, t in graph.items()}
    broken["assistant.core.dates"].add("assistant.decisions.extract")  # core -> decisions, closing a loop
    assert any("assistant.core.dates" in c for c in cycles(broken))
    assert ("assistant.core.dates", "assistant.decisions.extract") in upward_imports(broken)
