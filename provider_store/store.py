"""ProviderStore: the one class a library user reads and edits the catalog through.

Its public methods are the documented operations, each once (the list is in the README's
library section and pinned by ``tests/test_exported_members.py``): each checks its input
against ``rules`` and calls the catalog's row operations (``rows``,
:class:`~provider_store.catalog.catalog_rows.CatalogRows`) or one session-level function of a
wing. The operations that reach another wing are defined in that wing and joined here: legacy
YAML (:mod:`~provider_store.legacy.yaml_operations`), the registries
(:mod:`~provider_store.registries.registry_operations`), history
(:mod:`~provider_store.history.history_operations`) and the schema
(:mod:`~provider_store.catalog.schema_changes`). This module holds the providers and models.
The connection and transactions are :class:`~provider_store.catalog.catalog_store.CatalogStore`'s,
which the wings below this module take.
"""

from __future__ import annotations

from collections.abc import Iterable
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from sqlmodel import Session

from provider_store.catalog.change_marker import provider_scope
from provider_store.catalog.schema_changes import SchemaOperations
from provider_store.catalog.states import utc_now
from provider_store.errors import ConfigurationError
from provider_store.history.history_operations import HistoryOperations
from provider_store.legacy.yaml_operations import YamlOperations
from provider_store.provider_config import ProviderConfig
from provider_store.registries.registry_operations import RegistryOperations
from provider_store.rules import (
    DEFAULT_KIND,
    NO_KEY_OPTION,
    check_cache_ttl,
    check_options,
)
from provider_store.rules.call_input import names_setting

if TYPE_CHECKING:
    from provider_store.catalog.cache_rows import CacheState
    from provider_store.catalog.model_aliases import AliasEntry
    from provider_store.catalog.model_facts import SourcedMetadata
    from provider_store.catalog.provider_details import ProviderDetails
    from provider_store.catalog.provider_edits import ProviderRemoval
    from provider_store.catalog.records import ValidationResult
    from provider_store.model_info import ModelInfo

# The legacy wing (PyYAML), the registry readers, the everyday edits and the history readers are
# imported by the methods that use them: opening the store and listing the catalog do not pay
# for them.


class ProviderStore(YamlOperations, RegistryOperations, HistoryOperations, SchemaOperations):
    """The durable catalog of providers and models: the one class a library user reads and
    edits it through (``ProviderStore(url)``, by default ``$PROVIDER_STORE_URL`` or the
    per-user SQLite file), with legacy YAML import and export, registries and history.

    A context manager: ``with ProviderStore(url) as store:`` closes the store (its connection
    pool) on leaving the block, also when the block raises.
    """

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # -- providers and their models as stored ------------------------------------------------

    def provider_keys(self, *, session: Session | None = None) -> list[str]:
        """Provider keys in catalog order."""
        return self.rows.provider_keys(session=session)

    def get_config(self, key: str, *, session: Session | None = None) -> ProviderConfig:
        """Provider ``key`` as a ProviderConfig, with its discovery cache attached;
        NotFoundError (with suggestions) for an unknown key."""
        return self.rows.get_config(key, session=session)

    def load_configs(
        self, *, keys: Iterable[str] | None = None, session: Session | None = None
    ) -> dict[str, ProviderConfig]:
        """Every provider (or those of ``keys`` that exist) as a ProviderConfig, in catalog
        order."""
        return self.rows.load_configs(keys=keys, session=session)

    def save_config(
        self,
        key: str,
        config: ProviderConfig,
        *,
        extra: dict[str, Any] | None = None,
        session: Session | None = None,
    ) -> None:
        """Insert or update provider ``key`` and its curated models from ``config`` (the legacy
        value); its discovery cache, verdicts and sightings stay. A setting the YAML importer
        would refuse raises InvalidDocumentError (OptionsError for kind and options) naming the
        field, and nothing is written; see
        :meth:`~provider_store.catalog.catalog_rows.CatalogRows.save_config`."""
        self.rows.save_config(key, config, extra=extra, session=session)

    def read_cache(self, key: str, *, session: Session | None = None) -> CacheState:
        """Provider ``key``'s discovery cache, TTL and last discovery error, as stored."""
        return self.rows.read_cache(key, session=session)

    def load_verdicts(
        self,
        provider_key: str,
        *,
        models: Iterable[str] | None = None,
        session: Session | None = None,
    ) -> dict[str, ValidationResult]:
        """Provider ``provider_key``'s stored verdicts by model id (only of ``models`` when
        given)."""
        return self.rows.load_verdicts(provider_key, models=models, session=session)

    def hand_marks(self, key: str, *, session: Session | None = None) -> dict[str, str]:
        """Model id -> ``valid`` / ``invalid`` for the models of ``key`` marked by hand
        (:meth:`mark_model`)."""
        return self.rows.hand_marks(key, session=session)

    def model_info(
        self, provider_key: str, model_id: str, *, session: Session | None = None
    ) -> ModelInfo:
        """What provider ``provider_key`` listed about ``model_id``, with its raw listed item;
        NotFoundError names the provider or the model when the catalog has neither."""
        return self.rows.model_info(provider_key, model_id, session=session)

    def list_model_infos(
        self, provider_key: str, *, session: Session | None = None
    ) -> dict[str, ModelInfo]:
        """Every model of ``provider_key`` in the catalog (curated or discovered), by id."""
        return self.rows.list_model_infos(provider_key, session=session)

    # -- metadata from the user, by the order of trust ---------------------------------------

    def model_metadata(self, provider_key: str, model_id: str) -> SourcedMetadata:
        """One model's metadata, each value with its source, by the order of trust: the user's
        override, then the provider's list, then the registries (LiteLLM, then models.dev)."""
        from provider_store.catalog.model_facts import sourced_metadata

        with self.read() as session:
            return sourced_metadata(session, provider_key, model_id)

    def set_model_metadata(self, provider_key: str, model_id: str, **values: Any) -> None:
        """Override fields of a model's metadata (``context_length=200000``); None clears an
        override. Overrides survive every refresh, registry update and re-import."""
        from provider_store.catalog.model_facts import set_user_facts

        with self.transaction() as session:
            set_user_facts(session, provider_key, model_id, values, utc_now())

    def models_metadata(
        self, provider_key: str, model_ids: Iterable[str] | None = None
    ) -> dict[str, SourcedMetadata]:
        """:meth:`model_metadata` of every model of ``provider_key`` (or of ``model_ids``), by
        model id, read at once."""
        from provider_store.catalog.model_facts import provider_metadata

        with self.read() as session:
            return provider_metadata(session, provider_key, model_ids)

    # -- everyday edits (the CLI's providers / keys / models verbs) ----------------------------

    @names_setting
    def add_provider(
        self,
        key: str,
        base_api_url: str,
        *,
        name: str | None = None,
        kind: str = DEFAULT_KIND,
        options: dict[str, Any] | None = None,
        cache_ttl: int | None = None,
        keyless: bool = False,
    ) -> None:
        """Add provider ``key`` (name defaults to the key; the key comes from ``{KEY}_API_KEY``
        or :meth:`set_api_key`). ``keyless`` marks a local server that takes no key (option
        ``no_key``). ConfigurationError when the key exists or a setting is unusable."""
        from provider_store.catalog import provider_edits

        provider_edits.checked_key(key)
        opts = dict(options or {})
        if keyless:
            opts[NO_KEY_OPTION] = True
        config = ProviderConfig(
            name=name if name is not None else key,
            base_api_url=base_api_url.strip(),
            kind=kind,
            options=check_options(opts) or None,
        )
        with self.transaction() as session:
            if key in self.rows.provider_keys(session=session):
                raise ConfigurationError(
                    f"provider {key} already exists (change it with: providers set {key} ...)"
                )
            self.rows.save_config(key, config, session=session)
            if cache_ttl is not None:
                self.rows.set_cache_ttl(key, check_cache_ttl(cache_ttl), session=session)

    @names_setting
    def update_provider(
        self,
        key: str,
        *,
        name: str | None = None,
        base_api_url: str | None = None,
        kind: str | None = None,
        set_options: dict[str, Any] | None = None,
        unset_options: Iterable[str] = (),
        cache_ttl: int | None = None,
        keyless: bool | None = None,
        removal_confirmations: int | None = None,
        removal_min_age_seconds: float | None = None,
    ) -> ProviderConfig:
        """Change provider ``key``'s settings (None leaves one as it is); its models, verdicts,
        stored key and cache stay. Returns the provider as stored now. The removal policy is
        :meth:`set_removal_policy`'s, checked the same way."""
        with self.transaction() as session:
            config = self.rows.get_config(key, session=session)
            if name is not None:
                config.name = name
            if base_api_url is not None:
                config.base_api_url = base_api_url.strip()
            if kind is not None:
                config.kind = kind
            opts = dict(config.options or {})
            for option in unset_options:
                if option not in opts:
                    known = ", ".join(sorted(opts)) or "none"
                    raise ConfigurationError(
                        f"provider {key} has no option {option!r} (it has: {known})"
                    )
                opts.pop(option)
            opts.update(set_options or {})
            if keyless is not None:
                opts.pop(NO_KEY_OPTION, None)
                if keyless:
                    opts[NO_KEY_OPTION] = True
            config.options = check_options(opts) or None
            self.rows.save_config(key, config, session=session)
            if cache_ttl is not None:
                self.rows.set_cache_ttl(key, check_cache_ttl(cache_ttl), session=session)
            if removal_confirmations is not None or removal_min_age_seconds is not None:
                self.rows.set_removal_policy(
                    key,
                    confirmations=removal_confirmations,
                    min_age_seconds=removal_min_age_seconds,
                    session=session,
                )
            return self.rows.get_config(key, session=session)

    def provider_details(self, key: str) -> ProviderDetails:
        """Everything the catalog knows about provider ``key``: settings, where its key comes
        from (never the key), model counts, last refresh error and provider problem.
        NotFoundError (with suggestions) for an unknown key."""
        from provider_store.catalog.provider_details import describe

        with self.read() as session:
            return describe(self, key, session)

    def all_provider_details(self) -> list[ProviderDetails]:
        """:meth:`provider_details` of every provider, by key, read in one transaction."""
        from provider_store.catalog.provider_details import describe

        with self.read() as session:
            return [
                describe(self, key, session) for key in self.rows.provider_keys(session=session)
            ]

    def removal_plan(self, keys: Iterable[str]) -> list[ProviderRemoval]:
        """What :meth:`remove_providers` would take: models, verdicts, stored key per provider."""
        from provider_store.catalog import provider_edits

        with self.read() as session:
            return provider_edits.removals(session, list(keys))

    def remove_providers(self, keys: Iterable[str]) -> list[ProviderRemoval]:
        """Remove providers (with their models, verdicts, facts and stored keys) in one
        transaction; NotFoundError for an unknown key, and then nothing is removed."""
        from provider_store.catalog import provider_edits

        with self.transaction() as session:
            plan = provider_edits.removals(session, list(keys))
            for removal in plan:
                self.rows.delete_provider(removal.key, session=session)
            return plan

    def rename_provider(self, old: str, new: str) -> None:
        """Give provider ``old`` the key ``new``, keeping its models, verdicts and cache."""
        from provider_store.catalog import provider_edits

        # The row keeps its change count under the new key: a reader sees ``old`` go and
        # ``new`` come, and reads ``new``.
        with self.transaction() as session, provider_scope(session, new):
            provider_edits.rename(session, old, new)

    def set_api_key(self, key: str, api_key: str | None) -> None:
        """Store provider ``key``'s API key (None forgets it; the environment then supplies it)."""
        from provider_store.catalog import provider_edits

        with self.transaction() as session, provider_scope(session, key):
            provider_edits.set_key(session, key, api_key)

    def set_alias(
        self, key: str, model_id: str, alias: str | None, *, move: bool = False
    ) -> list[str]:
        """Give valid model ``model_id`` of provider ``key`` the alias ``alias`` (None: no alias).

        One alias names one model in the whole catalog: an alias another model holds (ignoring
        case) raises :class:`AliasTakenError` naming it, unless ``move`` takes it from there
        (in the same transaction). Returns the ``provider/model`` of each model it was taken
        from. ConfigurationError for an unusable alias (empty, another valid model's id, or
        ``provider/...`` of a provider in the catalog) or a model that is not valid."""
        from provider_store.catalog import model_aliases

        with self.transaction() as session, provider_scope(session, key):
            return model_aliases.set_alias(session, key, model_id, alias, move=move)

    def aliases(self) -> list[AliasEntry]:
        """Every alias of a valid model, in catalog order, each with the other models that
        answer to the same name (``also_alias_of``: a collision a legacy import brought in;
        ``also_id_of``: a valid model whose id it is)."""
        from provider_store.catalog import model_aliases

        with self.read() as session:
            return model_aliases.list_aliases(session)

    def mark_model(
        self, key: str, model_id: str, verdict: str | None, *, reason: str | None = None
    ) -> None:
        """Mark a model ``valid`` or ``invalid`` by hand; discovery keeps the mark until
        ``verdict=None`` returns the model to discovery's care."""
        from provider_store.catalog import provider_edits

        with self.transaction() as session, provider_scope(session, key):
            provider_edits.mark(session, key, model_id, verdict, reason)
