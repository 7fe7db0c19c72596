"""Layer rules from issue 18: the store knows no feature above it, shared helpers sit at the top of core,
and the packaging modules do not import each other in a circle."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported_modules(path: Path) -> set[str]:
    """Every module an import statement in the file names, at any depth (lazy imports included)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _string_constants(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {node.value for node in ast.walk(tree) if isinstance(node, ast.Constant) and isinstance(node.value, str)}


def test_the_store_layer_imports_no_feature_module():
    features = ("core.sources", "core.refine", "core.packaging", "core.apps", "core.market", "core.monitoring",
                "core.privacy", "core.api", "ml")
    offenders = {}
    for path in (ROOT / "core" / "store").rglob("*.py"):
        if "migrations" in path.parts:
            continue
        named = {m for m in _imported_modules(path) | _string_constants(path) if m.startswith(features)}
        if "importlib" in _imported_modules(path) or named:
            offenders[_module_name(path)] = sorted(named) or ["importlib"]
    assert offenders == {}, f"core/store must not reach the features above it: {offenders}"


def test_shared_helpers_import_nothing_from_the_layers_that_use_them():
    for name in ("licenses", "values"):
        imported = {m for m in _imported_modules(ROOT / "core" / f"{name}.py") if m.startswith(("core", "ml"))}
        assert imported == set(), f"core/{name}.py is used by every layer and must not import {imported}"
    old_homes = [ROOT / "core" / "sources" / "listing_values.py"]
    assert [p for p in old_homes if p.exists()] == []


def test_packaging_modules_do_not_import_each_other_in_a_circle():
    graph: dict[str, set[str]] = {}
    for path in (ROOT / "core" / "packaging").glob("*.py"):
        module = _module_name(path)
        graph[module] = {m for m in _imported_modules(path) if m.startswith("core.packaging.")}
    graph = {module: {m for m in targets if m in graph} for module, targets in graph.items()}

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        return any(nxt == goal or (nxt not in seen and reaches(nxt, goal, seen | {nxt})) for nxt in graph[start])

    circles = sorted(module for module in graph if reaches(module, module, {module}))
    assert circles == [], f"packaging modules in an import circle: {circles}"
