"""Old flat module paths (``provider_store.config``, ``provider_store.http`` …) kept importable.

The package was reshaped into wings by concept; code written against the flat modules keeps
working because each old path is an alias of the module that now holds its names. Aliases are
resolved on first import only, so they cost nothing at start-up.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
from collections.abc import Sequence
from types import ModuleType

MOVED_MODULES = {
    "provider_store.cache_rows": "provider_store.catalog.queries",
    "provider_store.config": "provider_store.provider_config",
    "provider_store.db": "provider_store.catalog.db",
    "provider_store.discovery.memory_cache": "provider_store.discovery.cache",
    "provider_store.discovery.refresh": "provider_store.discovery.cache",
    "provider_store.discovery.stored_cache": "provider_store.discovery.cache",
    "provider_store.discovery_report": "provider_store.discovery.report",
    "provider_store.export": "provider_store.legacy.exporter",
    "provider_store.http": "provider_store.providers.openai",
    "provider_store.http_parsing": "provider_store.providers.transport",
    "provider_store.import_report": "provider_store.legacy.report",
    "provider_store.leases": "provider_store.discovery.leases",
    "provider_store.legacy_yaml": "provider_store.legacy.document",
    "provider_store.manager": "provider_store.resolution.manager",
    "provider_store.memory_cache": "provider_store.discovery.cache",
    "provider_store.migrate": "provider_store.catalog.migrate",
    "provider_store.model_index": "provider_store.resolution.model_index",
    "provider_store.model_plan": "provider_store.catalog.model_plan",
    "provider_store.orchestrate": "provider_store.discovery.run",
    "provider_store.refresh": "provider_store.discovery.cache",
    "provider_store.results": "provider_store.discovery.results",
    "provider_store.stored_cache": "provider_store.discovery.cache",
    "provider_store.tables": "provider_store.catalog.tables",
    "provider_store.transfer": "provider_store.legacy.importer",
    "provider_store.validation": "provider_store.discovery.verdicts",
    "provider_store.yaml_loader": "provider_store.legacy.safe_yaml",
}


class _AliasLoader(importlib.abc.Loader):
    def __init__(self, target: str) -> None:
        self.target = target

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        module = importlib.import_module(self.target)
        sys.modules[spec.name] = module
        return module

    def exec_module(self, module: ModuleType) -> None:
        """The target module is already executed."""


class _MovedModuleFinder(importlib.abc.MetaPathFinder):
    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        moved = MOVED_MODULES.get(fullname)
        if moved is None:
            return None
        return importlib.machinery.ModuleSpec(fullname, _AliasLoader(moved))


def install() -> None:
    """Make the old module paths importable (idempotent)."""
    if not any(isinstance(finder, _MovedModuleFinder) for finder in sys.meta_path):
        sys.meta_path.append(_MovedModuleFinder())
