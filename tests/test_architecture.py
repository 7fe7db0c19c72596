"""Layout rules from DESIGN.md that must hold for every change."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_core_and_ml_never_import_streamlit():
    offenders = [
        str(path.relative_to(ROOT))
        for package in ("core", "ml")
        for path in (ROOT / package).rglob("*.py")
        if "streamlit" in _imports(path)
    ]
    assert offenders == [], f"core/ and ml/ must not import streamlit: {offenders}"


def test_every_page_file_is_registered_in_navigation():
    app_source = (ROOT / "app.py").read_text()
    pages = [p for p in (ROOT / "pages").glob("*.py") if not p.name.startswith("_")]
    missing = [p.name for p in pages if f"pages/{p.name}" not in app_source]
    assert missing == [], f"page files not reachable from app.py: {missing}"


def test_required_layout_present():
    for name in ("app.py", "pages", "core", "ml", "data/README.md", ".streamlit/config.toml", "requirements.txt",
                 "requirements-dev.txt", "README.md", "tests", "bench", ".ci/run"):
        assert (ROOT / name).exists(), name
