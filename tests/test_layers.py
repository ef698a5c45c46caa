"""The layers of the whole project, read from every import statement (the AST, so lazy imports count too).

    core  <-  warehouse  <-  queries  <-  pricing / estimates / chargeback  <-  ingest  <-  cli / dashboard  <-  bench

A package imports only packages on layers below its own; the three domain packages do not import one
another. The dashboard (the read side) never imports the sources or the command line. Streamlit is
imported only under ``dashboard/`` (and by the bench, which renders the pages). A ``__main__.py`` is an
entry point (``python -m ingest`` runs the command line), not part of its package's layer.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LAYERS = {
    "core": 0,
    "warehouse": 1,
    "queries": 2,
    "pricing": 3,
    "estimates": 3,
    "chargeback": 3,
    "ingest": 4,
    "cli": 5,
    "dashboard": 5,
    "bench": 6,
}
ENTRY_POINT_LAYER = max(LAYERS.values()) + 1  # entry points sit above everything
STREAMLIT_ALLOWED = {"dashboard", "bench"}


def imports_of(path: Path) -> list[tuple[int, str]]:
    """(line, top-level package) for every absolute import in a file."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name.split(".")[0]) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module.split(".")[0]))
    return found


def project_files() -> list[Path]:
    return sorted(p for package in LAYERS for p in (ROOT / package).rglob("*.py"))


def layer_of(path: Path) -> int:
    return ENTRY_POINT_LAYER if path.name == "__main__.py" else LAYERS[path.relative_to(ROOT).parts[0]]


@pytest.mark.parametrize("path", project_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_import_points_down_the_layers(path):
    package = path.relative_to(ROOT).parts[0]
    for line, imported in imports_of(path):
        if imported not in LAYERS or imported == package:
            continue
        where = f"{path.relative_to(ROOT)}:{line} imports {imported}"
        assert LAYERS[imported] < layer_of(path), f"{where}, which is not below {package}"


def test_the_dashboard_never_imports_the_write_side_sources_or_the_command_line():
    for path in (ROOT / "dashboard").rglob("*.py"):
        for line, imported in imports_of(path):
            assert imported not in ("ingest", "cli"), f"{path.relative_to(ROOT)}:{line} imports {imported}"


@pytest.mark.parametrize("path", project_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_streamlit_is_imported_only_by_the_dashboard(path):
    if path.relative_to(ROOT).parts[0] in STREAMLIT_ALLOWED:
        return
    assert "streamlit" not in {imported for _, imported in imports_of(path)}, path


def test_every_package_of_the_project_has_a_layer():
    packages = {p.parent.name for p in ROOT.glob("*/__init__.py")}
    assert packages == set(LAYERS), "a new top-level package needs its place in LAYERS (and docs/architecture.md)"


def test_the_layers_test_sees_a_wrong_import(tmp_path):
    wrong = tmp_path / "bad.py"
    wrong.write_text("def f():\n    from dashboard import data\n")
    assert imports_of(wrong) == [(2, "dashboard")]
