"""The layering rules of architecture.md that imports alone can check.

Every new app copies what the old ones do, so a domain module that imports DRF or its own
API package, or a production module that imports a test helper, would spread. The rules
are read from the source (no import runs), so a violation names its file and line.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
APPS = ("accounts", "faces", "cameras", "detections", "attendance", "integrations")
#: accounts also holds the HTTP side of auth (permissions, throttles, WebSocket auth),
#: which is DRF by nature; its domain modules are these.
ACCOUNTS_DOMAIN = ("models.py", "services.py", "audit.py", "roles.py")


def _modules(folder: Path) -> Iterator[Path]:
    for path in sorted(folder.rglob("*.py")):
        parts = path.relative_to(ROOT).parts
        if not any(p in ("tests", "migrations") for p in parts):
            yield path


def _imports(path: Path) -> Iterator[tuple[int, str]]:
    """Each imported module, and for ``from x import y`` also ``x.y`` (y may be a module)."""
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from ((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            yield node.lineno, node.module
            yield from ((node.lineno, f"{node.module}.{alias.name}") for alias in node.names)


def _is_within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def _domain_modules(app: str) -> Iterator[Path]:
    for path in _modules(ROOT / app):
        relative = path.relative_to(ROOT / app)
        # apps.py is wiring: architecture.md has apps register with the kernel from there.
        wiring = ("admin.py", "testing.py", "apps.py")
        if relative.parts[0] in ("api", "testing") or relative.name in wiring:
            continue
        if app == "accounts" and str(relative) not in ACCOUNTS_DOMAIN:
            continue
        yield path


@pytest.mark.parametrize("app", [a for a in APPS if (ROOT / a).is_dir()])
def test_domain_code_imports_neither_drf_nor_an_api_package(app):
    forbidden = ("rest_framework", "config.api", *(f"{a}.api" for a in APPS))
    found = [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for path in _domain_modules(app)
        for line, module in _imports(path)
        if any(_is_within(module, package) for package in forbidden)
    ]
    assert found == []


def _is_test_helper(module: str) -> bool:
    parts = module.split(".")
    return parts[0] in ("config", *APPS) and ("testing" in parts or "tests" in parts)


def test_production_code_imports_no_test_helper():
    found = []
    for folder in (ROOT / "config", *(ROOT / a for a in APPS)):
        for path in _modules(folder):
            if "testing" in path.relative_to(ROOT).parts or path.name == "testing.py":
                continue
            found += [
                f"{path.relative_to(ROOT)}:{line} imports {module}"
                for line, module in _imports(path)
                if _is_test_helper(module)
            ]
    assert found == []
