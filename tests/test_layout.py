"""The package keeps its wings apart."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "provider_store"

# wing -> wings it must never import
FORBIDDEN = {
    "catalog": {"legacy", "discovery", "providers", "resolution", "cli", "store", "history"},
    "history": {"legacy", "discovery", "providers", "resolution", "cli", "store"},
    "providers": {"catalog", "legacy", "discovery", "resolution", "cli", "store"},
    "legacy": {"discovery", "providers", "resolution", "cli"},
    "discovery": {"legacy", "resolution", "cli"},
    "resolution": {"cli"},
}


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


@pytest.mark.parametrize("wing", sorted(FORBIDDEN))
def test_a_wing_imports_nothing_from_the_wings_above_it(wing: str) -> None:
    offences = []
    for path in sorted((PACKAGE / wing).rglob("*.py")):
        for module in imported_modules(path):
            parts = module.split(".")
            if parts[0] == "provider_store" and len(parts) > 1 and parts[1] in FORBIDDEN[wing]:
                offences.append(f"{path.relative_to(PACKAGE)} imports {module}")
    assert offences == []
