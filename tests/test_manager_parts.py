"""ProviderManager is a legacy face over parts that each do one job; its errors are in the tree."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from provider_store import (
    NotFoundError,
    ProviderConfig,
    ProviderManager,
    ProviderStoreError,
    UnknownModelError,
)
from provider_store.errors import ProviderKeyError
from provider_store.legacy.provider_file import LEGACY_FILE_NAME, write_provider_file
from provider_store.resolution.resolver import Resolver

PACKAGE = Path(__file__).resolve().parents[1] / "provider_store"
MOST_LINES = 400


def configs() -> dict[str, ProviderConfig]:
    return {
        "openai": ProviderConfig(valid_models={"gpt-4o-2024-08-06": "4o"}),
        "groq": ProviderConfig(valid_models={"llama-3.1-8b": "llama", "gpt-4o-2024-08-06": "4o"}),
    }


def test_an_unknown_provider_key_is_a_key_error_inside_the_error_tree() -> None:
    manager = ProviderManager(configs())
    with pytest.raises(ProviderKeyError) as caught:
        manager.get_provider_config("nope")
    error = caught.value
    assert isinstance(error, KeyError) and isinstance(error, NotFoundError)
    assert isinstance(error, ProviderStoreError)
    assert error.args[0] == "Provider 'nope' not found."
    assert str(error) == str(KeyError("Provider 'nope' not found."))


def test_errors_docstring_draws_provider_key_error_under_not_found() -> None:
    import provider_store.errors as errors

    tree = (errors.__doc__ or "").splitlines()
    found = next(i for i, line in enumerate(tree) if "+-- NotFoundError" in line)
    assert "+-- ProviderKeyError" in tree[found + 1]


def test_the_resolver_answers_over_plain_configs_as_the_manager_does() -> None:
    plain = configs()
    resolver = Resolver()
    manager = ProviderManager(configs())
    for asked in ("4o", "groq/llama", "GPT-4O-2024-08-06", "nope/llama"):
        key, long = resolver.resolve(plain, asked, strict=False)
        config, manager_long = manager.get_api_for_model_string(asked)
        assert (config.catalog_key, manager_long) == (key, long)
    assert resolver.candidates(plain, "4o") == [
        "openai/gpt-4o-2024-08-06",
        "groq/gpt-4o-2024-08-06",
    ]
    with pytest.raises(UnknownModelError, match="did you mean groq/llama-3.1-8b"):
        resolver.resolve(plain, "groq/llama-3.1", strict=False)


def test_the_resolver_sees_an_in_place_edit_of_a_small_catalog() -> None:
    plain = configs()
    resolver = Resolver()
    assert resolver.find(plain, "mistral") == []
    plain["groq"].valid_models["mistral-7b"] = "mistral"
    assert resolver.find(plain, "mistral") == [("groq", "mistral-7b")]


def test_the_legacy_file_is_written_from_configs_without_a_manager(tmp_path: Path) -> None:
    path = write_provider_file({"p": ProviderConfig(name="P", valid_models={"m": "M"})}, tmp_path)
    assert path == tmp_path / LEGACY_FILE_NAME
    text = path.read_text(encoding="utf-8")
    assert text.startswith("providers:\n  p:\n    name: P\n")
    assert "valid_models:\n      m: M\n" in text and "invalid_models: []" in text


def test_no_class_in_the_package_is_over_400_lines() -> None:
    too_long = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and node.end_lineno is not None:
                lines = node.end_lineno - node.lineno + 1
                if lines > MOST_LINES:
                    too_long.append(f"{path.relative_to(PACKAGE)}::{node.name} ({lines} lines)")
    assert too_long == []


def test_the_resolution_wing_has_no_module_over_400_lines() -> None:
    sizes = {
        path.name: len(path.read_text(encoding="utf-8").splitlines())
        for path in (PACKAGE / "resolution").glob("*.py")
    }
    assert max(sizes.values()) <= MOST_LINES, sizes
