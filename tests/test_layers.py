"""The library's structure, read from its sources with ``ast`` (nothing is imported): no import cycle,
no module importing one that stands above it in the flow, no function with more than 8 parameters.

The layers (docs/development.md, "Module map"): the low modules every step stands on; the analyses;
the presentation of their results. A low module imports no analysis or presentation module; an
analysis module imports no presentation module (figures, report, explorer); and there is no cycle
at all, counting imports inside functions (a cycle there is still a cycle of the design).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "textdrift"

LOW = {"config", "io", "job", "manifest", "codebook", "stats", "counting", "structure", "rxcheck", "decode", "memo", "langmemo"}
ANALYSIS = {"vectorize", "entities", "matching", "themes", "drift", "phrases", "formulations", "findings",
            "crosslingual", "align", "validation", "segment", "matchmemo"}
PRESENTATION = {"figures", "report", "explorer"}
MAX_PARAMETERS = 8

# Functions allowed over the limit, each with the reason (none today: keep it that way).
EXEMPT: set[str] = set()


def _modules() -> dict[str, ast.Module]:
    return {p.stem: ast.parse(p.read_text(encoding="utf-8"), filename=str(p)) for p in sorted(PACKAGE.glob("*.py"))}


def import_graph(modules: dict[str, ast.Module] | None = None) -> dict[str, set[str]]:
    """Module -> the package's modules it imports, anywhere in its source (relative and absolute
    imports, ``import textdrift.x``, ``from textdrift import x``, ``from . import x``, ``from .x import y``)."""
    modules = _modules() if modules is None else modules
    graph = {}
    for name, tree in modules.items():
        deps = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                deps |= {a.name.split(".")[1] for a in node.names if a.name.startswith("textdrift.")}
            elif isinstance(node, ast.ImportFrom):
                if node.level > 1:
                    continue  # above the package
                if node.level == 1 or node.module == "textdrift" or (node.module or "").startswith("textdrift."):
                    parts = (node.module or "").split(".") if node.level == 1 else node.module.split(".")[1:]
                    parts = [p for p in parts if p]
                    deps |= {parts[0]} if parts else {a.name for a in node.names}
        graph[name] = {d for d in deps if d in modules and d != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(out)


def parameter_counts(modules: dict[str, ast.Module] | None = None) -> dict[str, int]:
    """``module.function`` -> its parameters: positional, keyword-only, ``*args`` and ``**kwargs``
    one each, ``self`` and ``cls`` not counted (methods are named ``module.Class.method``)."""
    modules = _modules() if modules is None else modules
    counts = {}
    for name, tree in modules.items():
        def walk(node, prefix):
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.ClassDef):
                    walk(child, f"{prefix}{child.name}.")
                elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    a = child.args
                    names = [x.arg for x in a.posonlyargs + a.args + a.kwonlyargs if x.arg not in ("self", "cls")]
                    counts[f"{prefix}{child.name}"] = len(names) + (a.vararg is not None) + (a.kwarg is not None)
                    walk(child, f"{prefix}{child.name}.")
                else:
                    walk(child, prefix)
        walk(tree, f"{name}.")
    return counts


def test_every_module_has_a_layer_or_is_outside_the_flow():
    """A new module is placed deliberately: in a layer, or among the tools around the pipeline."""
    around = {"__init__", "check", "clean", "cleanio", "console", "despace", "extract", "html", "newcorpus",
              "notebook", "propose", "provenance", "segment_eval", "synth"}
    assert not (LOW & ANALYSIS or LOW & PRESENTATION or ANALYSIS & PRESENTATION)
    unplaced = set(_modules()) - LOW - ANALYSIS - PRESENTATION - around
    assert not unplaced, f"put these modules in a layer of tests/test_layers.py (and docs/development.md): {unplaced}"


def test_no_import_cycle():
    found = cycles(import_graph())
    assert not found, f"import cycles in src/textdrift: {found}"


def test_no_module_imports_one_above_it():
    graph = import_graph()
    wrong = [f"{m} -> {d}" for m in sorted(LOW) for d in sorted(graph.get(m, ())) if d in ANALYSIS | PRESENTATION]
    wrong += [f"{m} -> {d}" for m in sorted(ANALYSIS) for d in sorted(graph.get(m, ())) if d in PRESENTATION]
    assert not wrong, f"a low module imports an analysis or presentation module, or an analysis a presentation one: {wrong}"


def test_no_function_takes_more_than_eight_parameters():
    counts = parameter_counts()
    over = {f: n for f, n in counts.items() if n > MAX_PARAMETERS and f not in EXEMPT}
    assert not over, f"more than {MAX_PARAMETERS} parameters (pass a settings dataclass): {over}"
    stale = sorted(f for f in EXEMPT if counts.get(f, 0) <= MAX_PARAMETERS)
    assert not stale, f"remove from EXEMPT in tests/test_layers.py (now within the limit or gone): {stale}"


@pytest.mark.parametrize("source, expected", [
    ("from textdrift.a import x\nimport textdrift.b\nfrom . import c\nfrom .d import y\nfrom textdrift import e\n"
     "def f():\n    from textdrift.g import z\n", {"a", "b", "c", "d", "e", "g"}),
])
def test_the_graph_sees_every_kind_of_import(source, expected):
    modules = {"m": ast.parse(source), **{k: ast.parse("") for k in "abcdeg"}}
    assert import_graph(modules)["m"] == expected
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    counts = parameter_counts({"m": ast.parse("class C:\n    def f(self, a, *b, c, **d): pass\ndef g(a, b=1): pass\n")})
    assert counts == {"m.C.f": 4, "m.g": 2}
