"""ProviderManager: a dict-like view over provider configs, cross-provider resolution, discovery.

Resolution (:meth:`ProviderManager.get_api_for_model_string`, :meth:`ProviderManager.find_model`)
goes through a :class:`~ModelIndex` built once from the configs, so a
catalog of 100,000 models is not scanned per call. The index is rebuilt after
:meth:`~ProviderManager.discover`, :meth:`~ProviderManager.reload`, item assignment or deletion on
the manager, and :meth:`~ProviderManager.invalidate`. For catalogs of up to
:data:`EXACT_FINGERPRINT_LIMIT` models every call also compares the configs' contents, so editing
a config in place (``manager["p"].valid_models["m"] = "alias"``) is seen at once; above that size
the check is O(1) (provider count and the ``providers`` dict's identity), so call
:meth:`~ProviderManager.invalidate` after editing configs of a large catalog in place.
"""

from __future__ import annotations

import logging
from collections.abc import ItemsView, Iterator, KeysView, Mapping, ValuesView
from typing import TYPE_CHECKING, Any

from provider_store.catalog.store import CatalogStore
from provider_store.errors import AmbiguousModelError, NotFoundError
from provider_store.provider_config import ProviderConfig
from provider_store.resolution.model_index import ModelIndex

if TYPE_CHECKING:
    from provider_store.discovery.report import DiscoveryReport, ProgressCallback
    from provider_store.discovery.service import ModelDiscoveryService

logger = logging.getLogger(__name__)

# Up to this many valid models, every lookup checks every (long, alias) pair for changes.
EXACT_FINGERPRINT_LIMIT = 1_000


def split_first_slash(text: str) -> tuple[str, str]:
    """``("", text)`` when ``text`` has no slash, else the parts before and after the first one."""
    if "/" not in text:
        return "", text
    head, _sep, tail = text.partition("/")
    return head, tail


class ProviderManager:
    """Provider configs by key, with resolution across providers and discover-and-validate.

    Built from a mapping of provider key to :class:`ProviderConfig` (or a plain dict of its
    fields), or from a ``store`` (then the configs are read from it and discovery results are
    written back). ``service`` is the :class:`~ModelDiscoveryService`
    used by :meth:`discover_models`; by default one over ``store``.
    """

    def __init__(
        self,
        providers: Mapping[str, ProviderConfig | Mapping[str, Any]] | None = None,
        *,
        store: CatalogStore | None = None,
        service: ModelDiscoveryService | None = None,
    ) -> None:
        self.store = store
        self._service = service
        self._owns_service = service is None
        self.providers: dict[str, ProviderConfig] = {}
        if providers is not None:
            self.providers = {key: _as_config(key, value) for key, value in providers.items()}
        elif store is not None:
            self.providers = store.load_configs()
        self._index: ModelIndex | None = None
        self._fingerprint: tuple[Any, ...] = ()
        self.last_report: DiscoveryReport | None = None

    def __repr__(self) -> str:
        return f"ProviderManager(providers={list(self.providers)!r}, store={self.store!r})"

    @property
    def service(self) -> ModelDiscoveryService:
        """The discovery service (created on first use)."""
        if self._service is None:
            from provider_store.discovery.service import ModelDiscoveryService

            self._service = ModelDiscoveryService(self.store)
        return self._service

    def close(self) -> None:
        """Close the discovery service if this manager created it."""
        if self._owns_service and self._service is not None:
            self._service.close()
            self._service = None

    def reload(self) -> None:
        """Re-read every config from the store (no-op without a store)."""
        if self.store is not None:
            self.providers = self.store.load_configs()
            self.invalidate()

    def invalidate(self) -> None:
        """Drop the resolution index; the next lookup rebuilds it from the current configs."""
        self._index = None
        self._fingerprint = ()

    # -- dict-like access -----------------------------------------------------------------------

    def get(self, key: str, default: ProviderConfig | None = None) -> ProviderConfig | None:
        """The config of provider ``key``, or ``default``."""
        return self.providers.get(key, default)

    def __getitem__(self, key: str) -> ProviderConfig:
        return self.providers[key]

    def __setitem__(self, key: str, value: ProviderConfig | Mapping[str, Any]) -> None:
        self.providers[key] = _as_config(key, value)
        self.invalidate()

    def __delitem__(self, key: str) -> None:
        del self.providers[key]
        self.invalidate()

    def __contains__(self, key: object) -> bool:
        return key in self.providers

    def __iter__(self) -> Iterator[str]:
        return iter(self.providers)

    def __len__(self) -> int:
        return len(self.providers)

    def keys(self) -> KeysView[str]:
        """Provider keys in catalog order."""
        return self.providers.keys()

    def values(self) -> ValuesView[ProviderConfig]:
        """Provider configs in catalog order."""
        return self.providers.values()

    def items(self) -> ItemsView[str, ProviderConfig]:
        """``(key, config)`` pairs in catalog order."""
        return self.providers.items()

    def get_provider_config(self, key: str) -> ProviderConfig:
        """The config of provider ``key``; a KeyError (NotFoundError) names an unknown one."""
        try:
            return self.providers[key]
        except KeyError:
            raise NotFoundError(f"Unknown provider: {key}") from None

    def get_all_provider_names(self) -> list[str]:
        """Every provider key, in catalog order."""
        return list(self.providers)

    # -- listings -------------------------------------------------------------------------------

    def merged_models(self) -> list[tuple[str, tuple[str, str]]]:
        """``[(provider_key, (long_name, short_name)), ...]`` in provider then model order."""
        return [
            (key, (long, short))
            for key, config in self.providers.items()
            for long, short in config.valid_models.items()
        ]

    def valid_scoped_models(self) -> list[str]:
        """``["provider/long (short)", ...]`` for every valid model, in order."""
        return [f"{key}/{long} ({short})" for key, (long, short) in self.merged_models()]

    def get_available_models(self, filter_by_provider: str | None = None) -> list[str]:
        """``["provider/long", ...]`` for every valid model, or only those of one provider.

        ``filter_by_provider`` matches a provider key ignoring case; an unknown one gives ``[]``.
        """
        wanted = filter_by_provider.lower() if filter_by_provider is not None else None
        return [
            f"{key}/{long}"
            for key, config in self.providers.items()
            if wanted is None or key.lower() == wanted
            for long in config.valid_models
        ]

    def get_short_name(self, long_name: str) -> str:
        """Kept for compatibility: returns ``long_name`` unchanged."""
        return long_name

    split_first_slash = staticmethod(split_first_slash)

    # -- resolution -----------------------------------------------------------------------------

    def get_api_for_model_string(
        self, model_string: str, *, strict: bool = False
    ) -> tuple[ProviderConfig, str]:
        """Resolve ``"provider/model"`` or a bare model name to ``(config, long_name)``.

        With a known provider prefix (any case) the rest must be a long or short name of that
        provider, else ``ValueError("Invalid model for provider {p}: {m}")``. Otherwise the whole
        string is looked up as a model name across providers in order (so ``Qwen/QwQ-32B``
        resolves), then the part after the first slash; ``ValueError("Invalid model: {m}")`` when
        nothing matches. A short name resolves to its long name; an exact-case match wins over a
        case-insensitive one. When several providers match, the first wins unless ``strict`` is
        set, which raises :class:`AmbiguousModelError` listing every ``provider/model``.
        """
        index = self._current_index()
        prefix, rest = split_first_slash(model_string)
        attempts = [model_string]
        if prefix:
            position = index.provider_position(prefix)
            if position is not None:
                key = index.keys[position]
                hits = index.lookup(rest, provider=position)
                if not hits:
                    raise ValueError(f"Invalid model for provider {key}: {rest}")
                return self.providers[key], index.longs[hits[0]]
            attempts.append(rest)
        for name in attempts:
            hits = index.lookup(name)
            if not hits:
                continue
            if strict and len(hits) > 1:
                raise AmbiguousModelError(name, [self._scoped(index, hit) for hit in hits])
            return self.providers[index.keys[index.owner[hits[0]]]], index.longs[hits[0]]
        raise ValueError(f"Invalid model: {model_string}")

    def validate_model(self, model_string: str, *, strict: bool = False) -> str:
        """The long model name ``model_string`` resolves to (errors as in resolution)."""
        return self.get_api_for_model_string(model_string, strict=strict)[1]

    def find_model(self, name: str) -> list[tuple[ProviderConfig, str]]:
        """``[(config, long_name), ...]``: each provider's ``config.find_model(name)`` match."""
        index = self._current_index()
        return [
            (self.providers[index.keys[index.owner[hit]]], index.longs[hit])
            for hit in index.find(name)
        ]

    def find_model_scoped(self, name: str) -> list[str]:
        """Like :meth:`find_model`, as ``"provider/long"`` strings."""
        index = self._current_index()
        return [self._scoped(index, hit) for hit in index.find(name)]

    def resolution_candidates(self, model_string: str) -> list[str]:
        """Every ``provider/model`` a bare name matches (empty when it resolves uniquely or not)."""
        try:
            self.get_api_for_model_string(model_string, strict=True)
        except AmbiguousModelError as exc:
            return exc.candidates
        except ValueError:
            return []
        return []

    @staticmethod
    def _scoped(index: ModelIndex, ordinal: int) -> str:
        return f"{index.keys[index.owner[ordinal]]}/{index.longs[ordinal]}"

    def _current_index(self) -> ModelIndex:
        index = self._index
        if (
            index is not None
            and len(index) > EXACT_FINGERPRINT_LIMIT
            and self._fingerprint == (id(self.providers), len(self.providers))
        ):
            return index  # a large catalog: O(1) check; in-place edits need invalidate()
        fingerprint = self._compute_fingerprint()
        if index is None or fingerprint != self._fingerprint:
            index = ModelIndex(
                [(key, config.valid_models) for key, config in self.providers.items()]
            )
            self._index = index
            if len(index) > EXACT_FINGERPRINT_LIMIT:
                fingerprint = (id(self.providers), len(self.providers))
            self._fingerprint = fingerprint
        return index

    def _compute_fingerprint(self) -> tuple[Any, ...]:
        return (
            id(self.providers),
            tuple(
                (key, tuple(config.valid_models.items())) for key, config in self.providers.items()
            ),
        )

    # -- discovery ------------------------------------------------------------------------------

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
        from provider_store.discovery.report import DiscoveryOptions
        from provider_store.discovery.run import run_discovery

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
        self.invalidate()
        self.last_report = report
        return report

    def discover_models(
        self,
        force_refresh: bool = False,
        persist_on_success: bool = True,
        provider: str | None = None,
    ) -> bool:
        """Discover and validate every provider with a usable key (or only ``provider``).

        True when every targeted provider succeeded (an unknown ``provider`` gives False, as
        does a run where every provider was skipped for want of an API key, or whose results
        could not be saved). The per-provider summary is in :attr:`last_report`.
        """
        report = self.discover(
            force_refresh=force_refresh, persist_on_success=persist_on_success, provider=provider
        )
        return report.ok


def _as_config(key: str, value: ProviderConfig | Mapping[str, Any]) -> ProviderConfig:
    config = value if isinstance(value, ProviderConfig) else ProviderConfig.model_validate(value)
    if config._provider_key is None:
        config._provider_key = key
    return config
