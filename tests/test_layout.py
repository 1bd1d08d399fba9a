"""The package keeps its wings apart."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "provider_store"

# wing -> wings it must never import
FORBIDDEN = {
    "catalog": {"legacy", "discovery", "providers", "resolution", "cli", "store", "history"}
    | {"exports", "serve"},
    "history": {"legacy", "discovery", "providers", "resolution", "cli", "store", "exports"}
    | {"serve"},
    "providers": {"catalog", "legacy", "discovery", "resolution", "cli", "store", "exports"}
    | {"serve"},
    "legacy": {"discovery", "providers", "resolution", "cli", "exports", "serve"},
    "discovery": {"legacy", "resolution", "cli", "exports", "serve"},
    "resolution": {"cli", "serve"},
    "registries": {"legacy", "discovery", "resolution", "cli", "store", "exports", "serve"},
    "exports": {"discovery", "resolution", "cli", "store", "serve"},
    "serve": {"cli"},
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


# A CLI module may share its base name with the library module behind its command.
CLI_COMMAND_MODULES = {"db"}


def test_no_two_modules_share_a_base_name_for_different_jobs() -> None:
    by_name: dict[str, list[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name == "__init__.py" or "_migrations" in path.parts:
            continue
        by_name.setdefault(path.stem, []).append(str(path.relative_to(PACKAGE)))
    shared = {
        name: paths
        for name, paths in by_name.items()
        if len(paths) > 1
        and not (
            name in CLI_COMMAND_MODULES
            and len(paths) == 2
            and any(p.startswith("cli/") for p in paths)
        )
    }
    assert shared == {}


def test_every_subpackage_says_what_lives_there_and_what_it_may_import() -> None:
    for init in sorted(PACKAGE.glob("*/__init__.py")):
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8"))) or ""
        assert "Lives here" in doc, init
        assert "May import" in doc, init


LONG_MODULE = 420


def test_a_module_over_about_400_lines_says_why_at_its_top() -> None:
    unexplained = []
    for path in sorted(PACKAGE.rglob("*.py")):
        lines = path.read_text(encoding="utf-8").count("\n")
        doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
        if lines > LONG_MODULE and "Why this module is long:" not in doc:
            unexplained.append(f"{path.relative_to(PACKAGE)} ({lines} lines)")
    assert unexplained == []
