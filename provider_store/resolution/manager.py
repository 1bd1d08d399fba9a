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
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from provider_store.catalog.catalog_store import CatalogStore
from provider_store.errors import (
    AmbiguousModelError,
    InvalidDocumentError,
    NotFoundError,
    UnknownModelError,
)
from provider_store.provider_config import ProviderConfig
from provider_store.resolution.model_index import ModelIndex
from provider_store.suggestions import nearest

if TYPE_CHECKING:
    from provider_store.discovery.run_report import DiscoveryReport, ProgressCallback
    from provider_store.discovery.service import ModelDiscoveryService

logger = logging.getLogger(__name__)

# Up to this many valid models, every lookup checks every (long, alias) pair for changes.
EXACT_FINGERPRINT_LIMIT = 1_000
# Where the legacy class kept its YAML file: DATA_DIRECTORY/FILE_NAME.
LEGACY_DATA_DIRECTORY = "~/.llm_chat_cli"
LEGACY_FILE_NAME = "openaicompat-providers.yaml"


class ProviderKeyError(NotFoundError):
    """The legacy ``KeyError`` of :meth:`ProviderManager.get_provider_config`.

    Its ``args[0]`` is ``Provider 'KEY' not found.`` and ``str()`` quotes it as a plain
    ``KeyError`` does, exactly as the old class raised it; it is also a :class:`NotFoundError`.
    """

    def __str__(self) -> str:
        return KeyError.__str__(self)


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
        # The legacy cache of valid_scoped_models(): None until it is asked for.
        self.cached_valid_scoped_models: list[str] | None = None
        self._scoped_for: tuple[Any, ...] = ()

    def __repr__(self) -> str:
        return f"ProviderManager(providers={list(self.providers)!r}, store={self.store!r})"

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
        """Drop the resolution index and the listing cache; both are rebuilt on next use."""
        self._index = None
        self._fingerprint = ()
        self.cached_valid_scoped_models = None

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

    # -- listings -------------------------------------------------------------------------------

    def merged_models(self) -> list[tuple[str, tuple[str, str]]]:
        """``[(provider_key, (long_name, short_name)), ...]`` in provider then model order."""
        return [
            (key, (long, short))
            for key, config in self.providers.items()
            for long, short in config.valid_models.items()
        ]

    def valid_scoped_models(self) -> list[str]:
        """``["provider/long (short)", ...]`` for every valid model, in order.

        The list is kept in :attr:`cached_valid_scoped_models` and returned from there while the
        configs are unchanged; :meth:`discover_models`, :meth:`discover`, :meth:`reload`,
        :meth:`invalidate` and item assignment or deletion reset it to None.
        """
        fingerprint = self._scoped_fingerprint()
        cached = self.cached_valid_scoped_models
        if cached is None or fingerprint != self._scoped_for:
            cached = [f"{key}/{long} ({short})" for key, (long, short) in self.merged_models()]
            self.cached_valid_scoped_models = cached
            self._scoped_for = fingerprint
        return cached

    def get_available_models(self, filter_by_provider: str | None = None) -> list[str]:
        """The long ids of every valid model, in provider then model order, as the legacy class.

        ``filter_by_provider`` keeps one provider's (its key, ignoring case); an unknown one gives
        ``[]``. The ids are bare (``"gpt-4o"``), so one id can appear once per provider; use
        :meth:`scoped_models` for ``provider/model`` strings.
        """
        wanted = filter_by_provider.lower() if filter_by_provider else None
        return [
            long
            for key, config in self.providers.items()
            if wanted is None or key.lower() == wanted
            for long in config.valid_models
        ]

    def scoped_models(self, provider: str | None = None) -> list[str]:
        """``["provider/long", ...]`` for every valid model (or one provider's, ignoring case)."""
        wanted = provider.lower() if provider else None
        return [
            f"{key}/{long}"
            for key, config in self.providers.items()
            if wanted is None or key.lower() == wanted
            for long in config.valid_models
        ]

    @staticmethod
    def get_short_name(long_name: str) -> str:
        """Legacy helper kept for compatibility: returns ``long_name`` unchanged."""
        return long_name

    split_first_slash = staticmethod(split_first_slash)

    # -- resolution -----------------------------------------------------------------------------

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
        index = self._current_index()
        prefix, rest = split_first_slash(model_string)
        attempts = [model_string]
        if prefix:
            position = index.provider_position(prefix)
            if position is not None:
                key = index.keys[position]
                hits = index.lookup(rest, provider=position)
                if not hits:
                    hints = index.nearest(rest, provider=position) or index.nearest(rest)
                    raise UnknownModelError(
                        f"Invalid model for provider {key}: {rest}",
                        model_string=model_string,
                        provider=key,
                        suggestions=[self._describe(index, hint) for hint in hints],
                    )
                return self.providers[key], index.longs[hits[0]]
            if not strict:
                attempts.append(rest)
        for name in attempts:
            hits = index.lookup(name)
            if not hits:
                continue
            if strict and len(hits) > 1:
                raise AmbiguousModelError(name, [self._scoped(index, hit) for hit in hits])
            return self.providers[index.keys[index.owner[hits[0]]]], index.longs[hits[0]]
        if prefix and strict:
            raise UnknownModelError(
                f"Unknown provider: {prefix}",
                model_string=model_string,
                suggestions=self._prefix_hints(index, prefix, rest),
            )
        shown = rest if prefix else model_string
        hints = index.nearest(model_string) if prefix else []
        hints += [hint for hint in index.nearest(shown) if hint not in hints]
        raise UnknownModelError(
            f"Invalid model: {shown}",
            model_string=model_string,
            suggestions=[self._describe(index, hint) for hint in hints[:3]],
        )

    def _describe(self, index: ModelIndex, ordinal: int) -> str:
        """``provider/long (alias)``, or ``provider/long`` when the alias is the id itself."""
        key, long = index.keys[index.owner[ordinal]], index.longs[ordinal]
        config = self.providers.get(key)
        alias = config.valid_models.get(long, long) if config is not None else long
        return f"{key}/{long}" if alias.lower() == long.lower() else f"{key}/{long} ({alias})"

    def _prefix_hints(self, index: ModelIndex, prefix: str, rest: str) -> list[str]:
        """For ``prefix/rest`` with an unknown prefix: the provider keys near ``prefix``.

        The provider was mistyped, so providers are suggested, and only near ones.
        """
        return nearest(prefix, index.keys)

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

    def unknown_prefix(self, model_string: str) -> str | None:
        """The prefix of ``model_string`` when it is not a provider and the whole string names no
        model, i.e. when non-strict resolution looks up only the part after the slash; else None.
        """
        prefix, _rest = split_first_slash(model_string)
        if not prefix:
            return None
        index = self._current_index()
        if index.provider_position(prefix) is not None or index.lookup(model_string):
            return None
        return prefix

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
        except UnknownModelError:
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

    def _scoped_fingerprint(self) -> tuple[Any, ...]:
        return self._compute_fingerprint()

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
        from provider_store.legacy.document import dump_data  # YAML only when writing it
        from provider_store.legacy.exporter import write_atomic

        directory = Path(os.path.expanduser(str(data_directory or LEGACY_DATA_DIRECTORY)))
        path = directory / LEGACY_FILE_NAME
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InvalidDocumentError(f"cannot write: {exc.strerror or exc}", path=path) from exc
        providers = {
            key: {
                "name": config.name,
                "base_api_url": config.base_api_url,
                "api_key": config.api_key,
                "valid_models": dict(config.valid_models),
                "invalid_models": list(config.invalid_models),
            }
            for key, config in self.providers.items()
        }
        private = any(config.api_key for config in self.providers.values())
        write_atomic(path, dump_data({"providers": providers}), private=private)
        logger.info("Wrote %d provider configs to %s", len(providers), path)
        return path


def _as_config(key: str, value: ProviderConfig | Mapping[str, Any]) -> ProviderConfig:
    config = value if isinstance(value, ProviderConfig) else ProviderConfig.model_validate(value)
    if config._provider_key is None:
        config._provider_key = key
    return config
