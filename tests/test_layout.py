"""The package keeps its wings apart, and code written against the old flat modules still runs."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

from provider_store._compat import MOVED_MODULES

PACKAGE = Path(__file__).resolve().parents[1] / "provider_store"

# wing -> wings it must never import
FORBIDDEN = {
    "catalog": {"legacy", "discovery", "providers", "resolution", "cli", "store"},
    "providers": {"catalog", "legacy", "discovery", "resolution", "cli", "store"},
    "legacy": {"discovery", "providers", "resolution", "cli"},
    "discovery": {"resolution", "cli"},
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


@pytest.mark.parametrize("old", sorted(MOVED_MODULES))
def test_old_flat_module_paths_still_import(old: str) -> None:
    module = importlib.import_module(old)
    assert module is importlib.import_module(MOVED_MODULES[old])


def test_old_names_reachable_through_their_old_modules() -> None:
    from provider_store.config import ProviderConfig
    from provider_store.http import OpenAIClient
    from provider_store.manager import ProviderManager

    import provider_store
    from provider_store.discovery import ModelDiscoveryService
    from provider_store.store import ProviderStore

    assert ProviderConfig is provider_store.ProviderConfig
    assert ModelDiscoveryService is provider_store.ModelDiscoveryService
    assert OpenAIClient is provider_store.OpenAIClient
    assert ProviderManager is provider_store.ProviderManager
    assert ProviderStore is provider_store.ProviderStore
