"""``config/api/`` is the shared kernel: it imports no app (architecture.md), so apps
register what it needs, such as health checks, from their ``apps.py``."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

KERNEL = Path(__file__).resolve().parents[1] / "api"
APPS = {"accounts", "faces", "cameras", "detections", "attendance", "integrations"}


def imported_modules(path: Path) -> set[str]:
    """Every module ``path`` imports, at the top or inside a function."""
    modules: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module)
    return modules


@pytest.mark.parametrize("path", sorted(KERNEL.glob("*.py")), ids=lambda p: p.name)
def test_the_kernel_imports_no_app(path):
    apps = {module for module in imported_modules(path) if module.split(".")[0] in APPS}
    assert apps == set(), f"config/api/{path.name} imports {sorted(apps)}"


def test_the_camera_workers_report_is_registered_by_the_cameras_app():
    from config.api.health import HEALTH_REPORTS

    assert HEALTH_REPORTS["camera_workers"].__module__ == "cameras.health"
