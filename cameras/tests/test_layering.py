"""The cameras app sits below the pipeline: it imports nothing above ``accounts``."""

from __future__ import annotations

import ast
from pathlib import Path

CAMERAS = Path(__file__).resolve().parents[1]
HIGHER_APPS = {"faces", "detections", "attendance", "integrations"}


def imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def test_cameras_code_imports_no_higher_app():
    offenders = {
        str(path.relative_to(CAMERAS)): sorted(imported_roots(path) & HIGHER_APPS)
        for path in CAMERAS.rglob("*.py")
        if "tests" not in path.relative_to(CAMERAS).parts
    }
    assert {name: apps for name, apps in offenders.items() if apps} == {}
