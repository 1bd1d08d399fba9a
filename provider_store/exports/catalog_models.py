"""The catalog's usable models as other tools name them: ids, aliases, metadata and keys.

Every export reads the catalog through this module:

- :func:`read_catalog`: each provider's settings and valid models, through the light table
  clauses (no list cache, no SQLModel classes), so the ``llm`` plugin stays cheap at start-up;
- :func:`model_values`: the metadata of a provider's models from the one model view, each field
  from its most trusted source (what ``models show`` prints);
- :func:`stored_keys`: the keys the catalog holds (a placeholder is no key).

Names: a model is ``provider/model``. Its alias, when it has one, is also offered as
``provider/alias`` and as the bare alias; a name that two models would get (ignoring case: only
a legacy import can bring such aliases in), or that is a model's ``provider/model``, is given to
none.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from provider_store.catalog.config_rows import curated_models
from provider_store.catalog.light_tables import PROVIDER
from provider_store.rules import DEFAULT_KIND, is_keyless, is_placeholder_key
from provider_store.rules.api_keys import KEYLESS_API_KEY

if TYPE_CHECKING:
    from provider_store.catalog.catalog_store import CatalogStore

__all__ = [
    "KEYLESS_API_KEY",
    "ExportedModel",
    "ExportedProvider",
    "model_values",
    "read_catalog",
    "stored_keys",
]

_P = PROVIDER.c


@dataclass(frozen=True, slots=True)
class ExportedModel:
    """One valid model: its provider, its id there, and the other names it answers to."""

    provider: str
    model_id: str
    aliases: tuple[str, ...]

    @property
    def name(self) -> str:
        """``provider/model``: the model's id in every export."""
        return f"{self.provider}/{self.model_id}"


@dataclass(frozen=True, slots=True)
class ExportedProvider:
    """A provider's settings (never its key) and its valid models, in catalog order."""

    key: str
    name: str
    base_api_url: str
    kind: str
    options: Mapping[str, Any]
    models: tuple[ExportedModel, ...]

    @property
    def keyless(self) -> bool:
        """True for a provider that takes no key on purpose (option ``no_key``)."""
        return is_keyless(self.options)


def read_catalog(store: CatalogStore) -> list[ExportedProvider]:
    """Every provider of the catalog with its valid models and their names, in catalog order."""
    with store.read() as session:
        rows = list(
            session.execute(
                select(_P.id, _P.key, _P.name, _P.base_api_url, _P.kind, _P.options).order_by(
                    _P.position, _P.id
                )
            )
        )
        curated = curated_models(session, [row.id for row in rows])
    valid = {row.key: curated.get(row.id, ({}, []))[0] for row in rows}
    aliases = _aliases(valid)
    return [
        ExportedProvider(
            key=row.key,
            name=row.name,
            base_api_url=row.base_api_url,
            kind=row.kind or DEFAULT_KIND,
            options=dict(row.options or {}),
            models=tuple(
                ExportedModel(row.key, model_id, aliases[row.key, model_id])
                for model_id in valid[row.key]
            ),
        )
        for row in rows
    ]


def _aliases(valid: Mapping[str, Mapping[str, str]]) -> dict[tuple[str, str], tuple[str, ...]]:
    """(provider, model id) -> the aliases it is offered under (see the module docstring)."""
    ids = {f"{key}/{model_id}" for key, models in valid.items() for model_id in models}
    wanted = {
        (key, model_id): _candidates(key, model_id, alias)
        for key, models in valid.items()
        for model_id, alias in models.items()
    }
    given = Counter(name.casefold() for names in wanted.values() for name in set(names))
    return {
        model: tuple(name for name in names if given[name.casefold()] == 1 and name not in ids)
        for model, names in wanted.items()
    }


def _candidates(key: str, model_id: str, alias: str) -> tuple[str, ...]:
    if not alias or alias == model_id:
        return ()
    return (f"{key}/{alias}", alias)


def model_values(
    store: CatalogStore, provider_key: str, model_ids: Iterable[str] | None = None
) -> dict[str, dict[str, Any]]:
    """Model id -> field -> value for a provider's models (or ``model_ids``), each value from
    its most trusted source: the one model view, as ``models show`` reads it."""
    from provider_store.catalog.model_facts import provider_metadata

    wanted = list(model_ids) if model_ids is not None else None
    with store.read() as session:
        found = provider_metadata(session, provider_key, wanted)
    return {
        model_id: {field: sourced.value for field, sourced in meta.values.items()}
        for model_id, meta in found.items()
    }


def stored_keys(store: CatalogStore, providers: Iterable[str] | None = None) -> dict[str, str]:
    """Provider key -> the API key the catalog holds for it (or for those of ``providers``);
    a provider whose stored key is a placeholder (its key comes from the environment) has none.
    """
    query = select(_P.key, _P.api_key)
    if providers is not None:
        query = query.where(_P.key.in_(list(providers)))
    with store.read() as session:
        rows = list(session.execute(query))
    return {key: api_key for key, api_key in rows if not is_placeholder_key(api_key)}
