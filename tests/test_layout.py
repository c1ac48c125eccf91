"""The layout rules that are not code: shared test helpers live in conftest.py, factories.py
and named helper modules, never in another test module (importing one ties two files' tests
together); the import-linter contracts (run by `make lint`) keep the issue's layers and
ignore no import."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def _imported_modules(source: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(source.read_text(), str(source))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
            names.extend(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
    return names


def test_no_test_module_imports_another_test_module() -> None:
    found = [
        f"{path.relative_to(TESTS)} imports {name}"
        for path in sorted(TESTS.rglob("*.py"))
        for name in _imported_modules(path)
        if name.startswith("tests.") and name.rsplit(".", 1)[-1].startswith("test_")
    ]
    assert found == []


def test_the_import_contracts_ignore_no_import_and_keep_the_issues_rules() -> None:
    """An ``ignore_imports`` would hide a broken layer (views once imported ``stripe``)."""
    import tomllib

    config = tomllib.loads((TESTS.parent / "pyproject.toml").read_text())["tool"]["importlinter"]
    contracts = config["contracts"]
    assert [c["name"] for c in contracts if c.get("ignore_imports")] == []
    forbidding = {
        module: set(c["forbidden_modules"])
        for c in contracts
        if c["type"] == "forbidden"
        for module in c["source_modules"]
    }
    assert {"django", "grants", "portal"} <= forbidding["ninox_backend.client"]
    assert {"django", "grants", "portal"} <= forbidding["ninox_backend.emulator"]
    for views in ("grants.views", "portal.views", "portal.manage.views"):
        assert {"stripe", "ninox_backend.client", "ninox_backend.request"} <= forbidding[views]
    assert "grants" in forbidding["portal"]


def test_zero_is_defined_once_in_grants_money() -> None:
    """The issue found ``ZERO = Decimal("0.00")`` in six modules; ``grants.money.ZERO`` is it."""
    import re

    zero = re.compile(r"""Decimal\(\s*["']0(\.0+)?["']\s*\)|Decimal\(\s*0\s*\)""")
    found = [
        f"{path.relative_to(TESTS.parent)}: {line.strip()}"
        for package in ("grants", "portal")
        for path in sorted((TESTS.parent / package).rglob("*.py"))
        if "migrations" not in path.parts
        for line in path.read_text().splitlines()
        if zero.search(line)
    ]
    assert found == ['grants/money.py: ZERO = Decimal("0.00")']
