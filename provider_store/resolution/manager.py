"""ProviderManager: the legacy class's face over provider configs, delegating each job.

The manager is a dict of provider key -> :class:`ProviderConfig` (the legacy dict-like face) and
hands every other job to the part that does it:

- listings: :mod:`provider_store.resolution.model_lists`;
- resolution: a :class:`~provider_store.resolution.resolver.Resolver` (indexed; see there for
  when in-place edits of a large catalog need :meth:`ProviderManager.invalidate`);
- discover-and-validate: :func:`provider_store.discovery.run.run_discovery` with the manager's
  :class:`~provider_store.discovery.service.ModelDiscoveryService`;
- the legacy YAML file: :func:`provider_store.legacy.provider_file.write_provider_file`.

The index and the listing cache are rebuilt after :meth:`~ProviderManager.discover`,
:meth:`~ProviderManager.reload`, item assignment or deletion on the manager, and
:meth:`~ProviderManager.invalidate`.

A manager over a store follows it (see :mod:`provider_store.resolution.catalog_follower`): at
most every ``follow_interval`` seconds (default 0.25) a read looks at the catalog's change
marker (one small query) and, when any process committed a change since, re-reads only the
providers that changed or appeared and drops those that are gone; what it did is counted in
:attr:`ProviderManager.follow_stats`. An unsaved local edit (item assignment or deletion, or a
discovery run whose changed lists were not saved) stops the following until
:meth:`~ProviderManager.reload`; ``follow_interval=None`` turns it off. ``follow_clock``
gives the seconds the interval is measured in (default :func:`time.monotonic`), so a test
advances time instead of sleeping.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from provider_store.catalog.catalog_store import CatalogStore
from provider_store.errors import ProviderKeyError as ProviderKeyError
from provider_store.provider_config import ProviderConfig
from provider_store.resolution import model_lists
from provider_store.resolution.catalog_follower import CatalogFollower, FollowStats
from provider_store.resolution.model_lookup import ModelLookup
from provider_store.resolution.model_scopes import EveryModel
from provider_store.resolution.resolver import (
    EXACT_FINGERPRINT_LIMIT as EXACT_FINGERPRINT_LIMIT,
)
from provider_store.resolution.resolver import Resolver, contents_fingerprint, split_first_slash
from provider_store.rules.limits import DEFAULT_CHECK_INTERVAL

if TYPE_CHECKING:
    from provider_store.discovery.run_report import DiscoveryReport, ProgressCallback
    from provider_store.discovery.service import ModelDiscoveryService


__all__ = ["ProviderKeyError", "ProviderManager", "split_first_slash"]


class ProviderManager(ModelLookup):
    """Provider configs by key, with resolution across providers and discover-and-validate.

    Built from a mapping of provider key to :class:`ProviderConfig` (or a plain dict of its
    fields), or from a ``store`` (then the configs are read from it and discovery results are
    written back). ``service`` is the :class:`~ModelDiscoveryService`
    used by :meth:`discover_models`; by default one over ``store`` (closed by :meth:`close`
    when ``close_store``). The four-form look-ups and completions: :class:`ModelLookup`.
    """

    def __init__(
        self,
        providers: Mapping[str, ProviderConfig | Mapping[str, Any]] | None = None,
        *,
        store: CatalogStore | None = None,
        service: ModelDiscoveryService | None = None,
        follow_interval: float | None = DEFAULT_CHECK_INTERVAL,
        close_store: bool = False,
        follow_clock: Callable[[], float] | None = None,
    ) -> None:
        self.store = store
        self.close_store = close_store
        self._service = service
        self._owns_service = service is None
        self._providers: dict[str, ProviderConfig] = {}
        # Following the store: other processes' commits are picked up (see providers).
        self._follower: CatalogFollower | None = None
        self._following = False
        if providers is not None:
            self._providers = {key: _as_config(key, value) for key, value in providers.items()}
        elif store is not None:
            if follow_interval is not None:
                self._follower = CatalogFollower(
                    store, interval=follow_interval, clock=follow_clock
                )
                self._following = True
            self._load_all()
        self.resolver = Resolver()
        self.last_report: DiscoveryReport | None = None
        # The legacy cache of valid_scoped_models(): None until it is asked for.
        self.cached_valid_scoped_models: list[str] | None = None
        self._scoped_for: tuple[Any, ...] = ()
        self._every = EveryModel()  # what locate() and complete(every=True) look in

    def __repr__(self) -> str:
        return f"ProviderManager(providers={list(self.providers)!r}, store={self.store!r})"

    @property
    def providers(self) -> dict[str, ProviderConfig]:
        """The configs by provider key, in catalog order (kept in step with the store)."""
        follower = self._follower
        if self._following and follower is not None:
            # Other processes' commits, looked at every follow_interval (one call otherwise).
            providers = follower.refresh(self._providers)
            if providers is not None:
                self._providers = providers
                self.invalidate()
        return self._providers

    @providers.setter
    def providers(self, value: dict[str, ProviderConfig]) -> None:
        self._providers = value

    @property
    def follow_stats(self) -> FollowStats:
        """What following the store has done so far: changes seen, full and partial reloads."""
        return self._follower.stats if self._follower is not None else FollowStats()

    def _load_all(self) -> None:
        """Read every config from the store (with what it stands for, when following)."""
        assert self.store is not None
        follower = self._follower
        self._providers = follower.load_all() if follower else self.store.rows.load_configs()

    @property
    def service(self) -> ModelDiscoveryService:
        """The discovery service (created on first use)."""
        if self._service is None:
            from provider_store.discovery.service import ModelDiscoveryService

            self._service = ModelDiscoveryService(self.store)
        return self._service

    @property
    def discovery_service(self) -> ModelDiscoveryService:
        """Legacy name of :attr:`service`."""
        return self.service

    def close(self) -> None:
        """Close the discovery service if this manager created it (the store: ``close_store``)."""
        if self._owns_service and self._service is not None:
            self._service.close()
            self._service = None
        if self.close_store and self.store is not None:
            self.store.close()

    def reload(self) -> None:
        """Re-read every config from the store (no-op without a store); a manager that stopped
        following the store after an item assignment follows it again."""
        if self.store is not None:
            if self._follower is not None:
                self._following = True
            self._load_all()
            self.invalidate()

    def invalidate(self) -> None:
        """Drop the resolution indexes and the listing cache; they are rebuilt on next use."""
        self.resolver.invalidate()
        self.cached_valid_scoped_models = None
        self._every.drop()

    # -- dict-like access -----------------------------------------------------------------------

    def get(self, key: str, default: ProviderConfig | None = None) -> ProviderConfig | None:
        """The config of provider ``key``, or ``default``."""
        return self.providers.get(key, default)

    def __getitem__(self, key: str) -> ProviderConfig:
        return self.providers[key]

    def __setitem__(self, key: str, value: ProviderConfig | Mapping[str, Any]) -> None:
        self.providers[key] = _as_config(key, value)
        self._following = False  # an unsaved local edit: do not replace it with the store's view
        self.invalidate()

    def __delitem__(self, key: str) -> None:
        del self.providers[key]
        self._following = False
        self.invalidate()

    def __contains__(self, key: object) -> bool:
        return key in self.providers

    def __iter__(self) -> Iterator[str]:
        return iter(self.providers)

    def __len__(self) -> int:
        return len(self.providers)

    def keys(self) -> list[str]:
        """Provider keys in catalog order (a new list, as the legacy class returned)."""
        return list(self.providers)

    def values(self) -> list[ProviderConfig]:
        """Provider configs in catalog order (a new list)."""
        return list(self.providers.values())

    def items(self) -> list[tuple[str, ProviderConfig]]:
        """``(key, config)`` pairs in catalog order (a new list)."""
        return list(self.providers.items())

    def model_dump(self) -> dict[str, dict[str, Any]]:
        """Every config's persisted fields by provider key (``ProviderConfig.model_dump()``)."""
        return {key: config.model_dump() for key, config in self.providers.items()}

    def get_provider_config(self, key: str) -> ProviderConfig:
        """The config of provider ``key``.

        An unknown key raises ``KeyError("Provider 'KEY' not found.")`` as the legacy class did
        (a :class:`ProviderKeyError`, so also a :class:`NotFoundError`).
        """
        try:
            return self.providers[key]
        except KeyError:
            raise ProviderKeyError(f"Provider '{key}' not found.") from None

    def get_all_provider_names(self) -> list[str]:
        """Every provider key, in catalog order."""
        return list(self.providers)

    # -- listings (model_lists) -----------------------------------------------------------------

    def merged_models(self) -> list[tuple[str, tuple[str, str]]]:
        """``[(provider_key, (long_name, short_name)), ...]`` in provider then model order."""
        return model_lists.merged_models(self.providers)

    def valid_scoped_models(self) -> list[str]:
        """``["provider/long (short)", ...]`` for every valid model, in order.

        The list is kept in :attr:`cached_valid_scoped_models` and returned from there while the
        configs are unchanged; :meth:`discover_models`, :meth:`discover`, :meth:`reload`,
        :meth:`invalidate` and item assignment or deletion reset it to None.
        """
        fingerprint = contents_fingerprint(self.providers)
        cached = self.cached_valid_scoped_models
        if cached is None or fingerprint != self._scoped_for:
            cached = model_lists.scoped_with_aliases(self.providers)
            self.cached_valid_scoped_models = cached
            self._scoped_for = fingerprint
        return cached

    def get_available_models(self, filter_by_provider: str | None = None) -> list[str]:
        """The long ids of every valid model, in provider then model order, as the legacy class.

        ``filter_by_provider`` keeps one provider's (its key, ignoring case); an unknown one gives
        ``[]``. The ids are bare (``"gpt-4o"``), so one id can appear once per provider; use
        :meth:`scoped_models` for ``provider/model`` strings.
        """
        return model_lists.long_ids(self.providers, filter_by_provider)

    def scoped_models(self, provider: str | None = None) -> list[str]:
        """``["provider/long", ...]`` for every valid model (or one provider's, ignoring case)."""
        return model_lists.scoped_ids(self.providers, provider)

    @staticmethod
    def get_short_name(long_name: str) -> str:
        """Legacy helper kept for compatibility: returns ``long_name`` unchanged."""
        return long_name

    split_first_slash = staticmethod(split_first_slash)

    # -- resolution (Resolver) ------------------------------------------------------------------

    def get_api_for_model_string(
        self, model_string: str, *, strict: bool = False
    ) -> tuple[ProviderConfig, str]:
        """Resolve ``"provider/model"`` or a bare model name to ``(config, long_name)``.

        With a known provider prefix (any case) the rest must be a long or short name of that
        provider, else :class:`UnknownModelError` ``Invalid model for provider {p}: {m}``.
        Otherwise the whole string is looked up as a model name across providers in order (so
        ``Qwen/QwQ-32B`` resolves), then the part after the first slash; when nothing matches,
        :class:`UnknownModelError` ``Invalid model: {m}`` (``m`` being the part after an unknown
        prefix, as the legacy class said). A short name resolves to its long name; an exact-case
        match wins over a case-insensitive one. Errors end with ``(did you mean ...?)`` naming the
        nearest models when there are any.

        ``strict`` refuses guesses: when several providers match, :class:`AmbiguousModelError`
        lists every ``provider/model``; an unknown provider prefix is an
        :class:`UnknownModelError` ``Unknown provider: {p}`` instead of a look-up of the rest.
        Without ``strict`` the first provider wins.
        """
        key, long = self._legacy_resolve(model_string, strict=strict)
        return self.providers[key], long

    def resolve_model(self, model_string: str, *, strict: bool = False) -> str:
        """The long model id ``model_string`` resolves to, by :meth:`get_api_for_model_string`.

        Resolution only: nothing is sent to a provider. To ask a provider whether a model chats,
        use :meth:`ModelDiscoveryService.check_model`.
        """
        return self.get_api_for_model_string(model_string, strict=strict)[1]

    def validate_model(self, model_string: str, *, strict: bool = False) -> str:
        """Legacy name of :meth:`resolve_model`: resolves the name, pings nothing.

        Not to be confused with ``ModelDiscoveryService.validate_model``, which pings a model.
        """
        return self.resolve_model(model_string, strict=strict)

    # -- discovery (discovery.run) and the legacy YAML file (legacy.provider_file) --------------

    def discover(
        self,
        *,
        force_refresh: bool = False,
        persist_on_success: bool = True,
        provider: str | None = None,
        validate: bool = True,
        concurrency: int | None = None,
        per_provider: int | None = None,
        deadline: float | None = None,
        progress: ProgressCallback | None = None,
    ) -> DiscoveryReport:
        """Discover (and by default validate) the targeted providers; return a full report.

        See :func:`provider_store.discovery.run.run_discovery` for the rules. The report is also
        kept as :attr:`last_report`.
        """
        from provider_store.discovery.run import run_discovery
        from provider_store.discovery.run_report import DiscoveryOptions

        self.cached_valid_scoped_models = None

        options = DiscoveryOptions.build(
            force_refresh=force_refresh,
            validate=validate,
            concurrency=concurrency,
            per_provider=per_provider,
            deadline=deadline,
        )
        report = run_discovery(
            self.providers,
            self.service,
            options,
            store=self.store if persist_on_success else None,
            provider=provider,
            progress=progress,
        )
        if report.lists_changed and not report.persisted:
            # What this run found is in memory only: do not replace it with the store's view
            # (as after an item assignment); reload() follows the store again.
            self._following = False
        self.invalidate()
        self.last_report = report
        return report

    def discover_models(
        self,
        force_refresh: bool = False,
        persist_on_success: bool = True,
        provider: str | None = None,
        data_directory: str | Path | None = None,
    ) -> bool:
        """Discover and validate every provider with a usable key (or only ``provider``).

        True when every targeted provider succeeded (an unknown ``provider`` gives False, as
        does a run where every provider was skipped for want of an API key, or whose results
        could not be saved). The per-provider summary is in :attr:`last_report`;
        :attr:`cached_valid_scoped_models` is reset to None. With ``persist_on_success`` a
        success is saved to the store; a manager without a store writes the legacy YAML file to
        ``data_directory`` instead, when one is given (see :meth:`persist_provider_configs`).
        """
        report = self.discover(
            force_refresh=force_refresh, persist_on_success=persist_on_success, provider=provider
        )
        if report.ok and persist_on_success and self.store is None and data_directory is not None:
            self.persist_provider_configs(data_directory)
        return report.ok

    def persist_provider_configs(self, data_directory: str | Path | None = None) -> Path:
        """Write the configs as the legacy YAML file ``openaicompat-providers.yaml``.

        The file goes in ``data_directory`` (default ``~/.llm_chat_cli``, created when missing),
        with the legacy fields in the legacy order, written atomically; mode 0600 when it holds
        an API key. Returns its path. A file that cannot be written raises
        :class:`InvalidDocumentError` naming it.
        """
        from provider_store.legacy.provider_file import write_provider_file  # YAML only here

        return write_provider_file(self.providers, data_directory)


def _as_config(key: str, value: ProviderConfig | Mapping[str, Any]) -> ProviderConfig:
    """``value`` as a config standing for ``key`` (its ``catalog_key``, unless it has one)."""
    config = value if isinstance(value, ProviderConfig) else ProviderConfig.model_validate(value)
    if config.catalog_key is None:
        config.catalog_key = key
    return config
