"""Flat lists of the valid models of provider configs, in provider then catalog order.

Pure functions over ``provider key -> ProviderConfig`` (catalog order), used by
:class:`~provider_store.resolution.manager.ProviderManager`'s legacy listings.
"""

from __future__ import annotations

from collections.abc import Mapping

from provider_store.provider_config import ProviderConfig

Configs = Mapping[str, ProviderConfig]


def merged_models(configs: Configs) -> list[tuple[str, tuple[str, str]]]:
    """``[(provider_key, (long_name, short_name)), ...]`` in provider then model order."""
    return [
        (key, (long, short))
        for key, config in configs.items()
        for long, short in config.valid_models.items()
    ]


def scoped_with_aliases(configs: Configs) -> list[str]:
    """``["provider/long (short)", ...]`` for every valid model, in order."""
    return [f"{key}/{long} ({short})" for key, (long, short) in merged_models(configs)]


def long_ids(configs: Configs, provider: str | None = None) -> list[str]:
    """The bare long ids of every valid model (or of ``provider``'s, its key ignoring case)."""
    wanted = provider.lower() if provider else None
    return [
        long
        for key, config in configs.items()
        if wanted is None or key.lower() == wanted
        for long in config.valid_models
    ]


def scoped_ids(configs: Configs, provider: str | None = None) -> list[str]:
    """``["provider/long", ...]`` for every valid model (or ``provider``'s, ignoring case)."""
    wanted = provider.lower() if provider else None
    return [
        f"{key}/{long}"
        for key, config in configs.items()
        if wanted is None or key.lower() == wanted
        for long in config.valid_models
    ]
