"""``provider_store.open()``: the one obvious way into the library; and an empty manager says how
to open the catalog instead of only "Invalid model"."""

from __future__ import annotations

from pathlib import Path

import pytest

import provider_store
from provider_store import (
    ProviderConfig,
    ProviderManager,
    ProviderStore,
    UnknownModelError,
)

HINT = (
    "(this manager holds no providers: open the catalog with provider_store.open()"
    " or ProviderManager(store=ProviderStore()))"
)


def test_open_gives_a_manager_over_the_catalog_at_the_url(store: ProviderStore) -> None:
    store.save_config(
        "openai",
        ProviderConfig(
            base_api_url="https://api.openai.com/v1", valid_models={"gpt-4o-2024-08-06": "4o"}
        ),
    )
    with provider_store.open(store.url) as manager:
        assert isinstance(manager, ProviderManager)
        assert isinstance(manager.store, ProviderStore) and manager.store.url == store.url
        assert str(manager.resolve("4o")) == "openai/gpt-4o-2024-08-06"
        assert [c.text for c in manager.complete("4")] == ["4o"]
        manager.store.set_alias("openai", "gpt-4o-2024-08-06", "omni")  # curation: its store
        manager.reload()
        assert str(manager.resolve("omni")) == "openai/gpt-4o-2024-08-06"


def test_open_without_a_url_opens_the_default_catalog(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """$PROVIDER_STORE_URL when set, else the per-user file the command line uses too."""
    named = tmp_path / "named.db"
    monkeypatch.setenv("PROVIDER_STORE_URL", str(named))
    with provider_store.open() as manager:
        assert manager.store is not None and manager.store.url.endswith("named.db")
        assert len(manager) == 0
    assert named.exists()
    monkeypatch.delenv("PROVIDER_STORE_URL")
    with provider_store.open() as manager, ProviderStore() as default:
        assert manager.store is not None and manager.store.url == default.url
    assert "open" in provider_store.__all__
    assert provider_store.open.__doc__


def test_an_empty_manager_says_how_to_open_the_catalog() -> None:
    for manager in (ProviderManager(), ProviderManager({})):
        with pytest.raises(UnknownModelError) as caught:
            manager.get_api_for_model_string("4o")
        assert str(caught.value) == f"Invalid model: 4o {HINT}"  # the legacy words first
        with pytest.raises(UnknownModelError, match=r"^Unknown model: 4o \(this manager"):
            manager.resolve("4o")
        with pytest.raises(UnknownModelError, match="provider_store.open()"):
            manager.resolve_model("openai/4o")


def test_a_manager_over_a_store_or_with_providers_adds_no_hint(store: ProviderStore) -> None:
    with pytest.raises(UnknownModelError) as caught:
        ProviderManager(store=store).get_api_for_model_string("4o")
    assert str(caught.value) == "Invalid model: 4o"
    manager = ProviderManager({"p": ProviderConfig(valid_models={"m": "m"})})
    with pytest.raises(UnknownModelError) as caught:
        manager.get_api_for_model_string("4o")
    assert str(caught.value) == "Invalid model: 4o"
