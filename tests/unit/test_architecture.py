"""The dependency rule, made executable: the domain and contracts never import Flask."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = ("flask", "flask_login", "flask_wtf", "web")


def imports_of(path: Path):
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module


@pytest.mark.parametrize("package", ["workflow", "contracts"])
def test_package_is_framework_free(package):
    files = sorted((ROOT / package).rglob("*.py"))
    assert files, f"no python files in {package}/"
    offenders = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in files
        for name in imports_of(path)
        if name.split(".")[0] in FORBIDDEN
    ]
    assert offenders == []


def test_workflow_does_not_depend_on_contracts():
    offenders = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "workflow").rglob("*.py")
        for name in imports_of(path)
        if name.split(".")[0] == "contracts"
    ]
    assert offenders == []


def test_views_never_import_transitions_or_commit():
    for path in (ROOT / "web").rglob("*.py"):
        source = path.read_text()
        assert "import transitions" not in source and "from transitions" not in source, path
        assert ".commit()" not in source, f"{path} commits; services own transactions"
