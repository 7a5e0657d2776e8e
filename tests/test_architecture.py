"""The architecture as data: which part of the code may import which, checked on every import.

Read this table to find your way in (docs/README.md, "Layout", says where each thing lives):

- **core** — the modules directly in ``tracker/``: settings, database, models, the progress rules,
  standing, targets, text, calendar (week keys, short names)... Core imports only core.
- **core rules in a package** — ``tracker/assessment`` (the year-end scoring rules, their computed
  criteria and the stored scores) sits beside the progress rules it takes its numbers from: it is core,
  so intake (checking a self-assessment), reporting and documents can all use it.
- **areas** — ``tracker/intake`` (reading and judging sheets), ``tracker/reporting`` (the weekly report,
  the review pack), ``tracker/mail`` (outbox, delivery, message texts), ``tracker/mailbox`` (IMAP,
  reading e-mails). An area imports core and itself, never another area: where one needs another's
  product, a workflow builds it and hands over plain data.
- **workflows** — ``tracker/workflows``: what combines areas (pull with its notices, sending a report,
  the demo). Imports core and areas.
- **front doors** — ``tracker/cli``, ``tracker/web``, ``jobs/``: may import anything below them; nothing
  below imports them. Only the CLI opens the other two (``tracker jobs``, ``tracker web``).

The graph counts every import: at module level and inside functions (a lazy import hides a cycle, it
does not remove it), but not those under ``if TYPE_CHECKING:``, which never run.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TOP_PACKAGES = ("tracker", "jobs")

# Sub-packages of tracker/ by layer. A new folder must be added here before its code is accepted.
AREAS = ("intake", "reporting", "mail", "mailbox", "documents", "backup")
CORE_PACKAGES = ("assessment",)  # packages whose modules are core (they import only core)
PACKAGE_LAYER = {"workflows": "workflows", "cli": "cli", "web": "web"}

# What each layer may import. "area" means: core, and its own area only.
MAY_IMPORT: dict[str, frozenset[str]] = {
    "core": frozenset({"core"}),
    "area": frozenset({"core"}),
    "workflows": frozenset({"core", "area", "workflows"}),
    "web": frozenset({"core", "area", "workflows", "web"}),
    "jobs": frozenset({"core", "area", "workflows", "jobs"}),
    "cli": frozenset({"core", "area", "workflows", "web", "jobs", "cli"}),
}

# Temporary exceptions, each removed by the change that fixes it (none left).
KNOWN_CYCLES: list[set[str]] = []
KNOWN_BREAKS: set[tuple[str, str]] = set()  # (importer, imported module or package)


@dataclass(frozen=True)
class Import:
    importer: str
    imported: str
    line: int
    in_function: bool

    def where(self) -> str:
        return f"{self.importer}:{self.line}{' (in a function)' if self.in_function else ''}"


def modules() -> dict[str, Path]:
    """Dotted name → file, for every module of the project's packages."""
    found = {}
    for top in TOP_PACKAGES:
        for path in sorted((ROOT / top).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _import_nodes(node: ast.AST, in_function: bool = False) -> Iterator[tuple[ast.Import | ast.ImportFrom, bool]]:
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.If) and _is_type_checking(child):
            for other in child.orelse:
                yield from _import_nodes(ast.Module(body=[other], type_ignores=[]), in_function)
            continue
        if isinstance(child, ast.Import | ast.ImportFrom):
            yield child, in_function
        yield from _import_nodes(child, in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef
                                                                   | ast.Lambda))


def _owner(name: str, known: dict[str, Path]) -> str | None:
    """The project module a dotted name lives in (``tracker.mail.outbox.enqueue`` → ``tracker.mail.outbox``)."""
    while name and name not in known:
        name = name.rpartition(".")[0]
    return name or None


def imports_of(module: str, path: Path, known: dict[str, Path]) -> Iterator[Import]:
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node, in_function in _import_nodes(ast.parse(path.read_text(encoding="utf-8"))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        else:
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            # `from pkg import sub` imports the module pkg.sub; `from mod import name` imports mod.
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
        for target in dict.fromkeys(targets):
            owner = _owner(target, known)
            if owner is not None and owner != module:
                yield Import(module, owner, node.lineno, in_function)


def import_graph() -> list[Import]:
    known = modules()
    return [imp for module, path in known.items() for imp in imports_of(module, path, known)]


def layer(module: str) -> tuple[str, str]:
    """(layer, group): the group is the area's name for areas, else the layer itself."""
    parts = module.split(".")
    if parts[0] == "jobs":
        return "jobs", "jobs"
    if len(parts) == 1 or (ROOT / "tracker" / f"{parts[1]}.py").is_file() or parts[1] in CORE_PACKAGES:
        return "core", "core"
    if parts[1] in AREAS:
        return "area", parts[1]
    if parts[1] in PACKAGE_LAYER:
        return PACKAGE_LAYER[parts[1]], parts[1]
    raise AssertionError(f"tracker/{parts[1]}/ belongs to no layer: add it to AREAS, CORE_PACKAGES or "
                         f"PACKAGE_LAYER in {__file__}")


def allowed(imp: Import) -> bool:
    (from_layer, from_group), (to_layer, to_group) = layer(imp.importer), layer(imp.imported)
    if from_layer == "area" and to_layer == "area":
        return from_group == to_group
    return to_layer in MAY_IMPORT[from_layer]


def _known_break(imp: Import) -> bool:
    return any(imp.importer == a and (imp.imported == b or imp.imported.startswith(b + ".")) for a, b in KNOWN_BREAKS)


def strongly_connected(graph: dict[str, set[str]]) -> list[set[str]]:
    """Tarjan's algorithm: the groups of modules that import each other, directly or not (size > 1)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.add(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(group)

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def a_cycle(group: set[str], edges: dict[tuple[str, str], Import]) -> list[Import]:
    """One cycle through the group, as the imports that make it (shortest back to its first module)."""
    start = min(group)
    paths: dict[str, list[Import]] = {start: []}
    queue = [start]
    while queue:
        v = queue.pop(0)
        for (a, b), imp in sorted(edges.items()):
            if a != v or b not in group:
                continue
            if b == start:
                return [*paths[v], imp]
            if b not in paths:
                paths[b] = [*paths[v], imp]
                queue.append(b)
    raise AssertionError(f"no cycle found in {group}")


# -- the checks ------------------------------------------------------------------------------------------


def test_no_module_imports_another_that_imports_it_back():
    graph_imports = import_graph()
    graph: dict[str, set[str]] = {}
    edges: dict[tuple[str, str], Import] = {}
    for imp in graph_imports:
        graph.setdefault(imp.importer, set()).add(imp.imported)
        edges.setdefault((imp.importer, imp.imported), imp)
    cycles = [group for group in strongly_connected(graph) if group not in KNOWN_CYCLES]
    report = ["  " + " → ".join(f"{imp.imported} ({imp.where()})" for imp in a_cycle(group, edges))
              for group in cycles]
    assert not cycles, "import cycles (module imported by ← line):\n" + "\n".join(report)


def test_every_import_respects_the_layers():
    breaks = [imp for imp in import_graph() if not allowed(imp) and not _known_break(imp)]
    lines = [f"  {imp.where()} imports {imp.imported}: {layer(imp.importer)[1]} → {layer(imp.imported)[1]}"
             for imp in breaks]
    assert not breaks, "imports against the layering:\n" + "\n".join(lines)


def test_every_known_break_still_happens():
    """A break that no longer happens leaves the table, so the table stays the truth."""
    breaks = [imp for imp in import_graph() if not allowed(imp)]
    gone = [(a, b) for a, b in KNOWN_BREAKS
            if not any(imp.importer == a and (imp.imported == b or imp.imported.startswith(b + ".")) for imp in breaks)]
    assert gone == []


def test_the_graph_sees_lazy_imports_and_skips_type_checking_ones(tmp_path):
    source = (
        "from typing import TYPE_CHECKING\n"
        "from tracker import text\n"
        "if TYPE_CHECKING:\n"
        "    from tracker.mail.outbox import enqueue\n"
        "def f():\n"
        "    from tracker.intake.ingest import ingest_bytes\n"
    )
    path = tmp_path / "x.py"
    path.write_text(source, encoding="utf-8")
    found = sorted((i.imported, i.in_function) for i in imports_of("tracker.reporting.x", path, modules()))
    assert found == [("tracker.intake.ingest", True), ("tracker.text", False)]
    assert not allowed(Import("tracker.reporting.x", "tracker.intake.ingest", 6, True))
    assert not allowed(Import("tracker.progress", "tracker.workflows.pull", 1, False))
    assert allowed(Import("tracker.cli.jobs", "jobs.tasks", 1, True))
    assert not allowed(Import("jobs.tasks", "tracker.cli.common", 1, False))


MAX_FUNCTION_LINES = 80


def test_no_function_is_longer_than_one_person_holds_in_mind():
    """No function or method in tracker/ or jobs/ is longer than 80 lines (decorators and docstring
    included): past that, split it along what it does."""
    long = []
    for path in sorted(p for top in TOP_PACKAGES for p in (ROOT / top).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                if node.end_lineno - start + 1 > MAX_FUNCTION_LINES:
                    long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} "
                                f"({node.end_lineno - start + 1} lines)")
    assert long == []
