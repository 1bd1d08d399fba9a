"""Discover-and-validate on :class:`~provider_store.resolution.manager.ProviderManager`:
:meth:`DiscoveryRuns.discover`, the one discovery entry point for new code (a
:class:`~provider_store.discovery.run_report.DiscoveryReport` with one summary per provider,
each provider that succeeded saved), and the legacy :meth:`DiscoveryRuns.discover_models`
(a bool, all or nothing), both over :func:`provider_store.discovery.run.run_discovery`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from provider_store.catalog.catalog_store import CatalogStore
    from provider_store.discovery.run_report import DiscoveryReport, ProgressCallback
    from provider_store.discovery.service import ModelDiscoveryService
    from provider_store.provider_config import ProviderConfig

__all__ = ["DiscoveryRuns"]


class DiscoveryRuns:
    """The discovery runs of a manager, which supplies :attr:`providers`, :attr:`store`,
    :attr:`service`, ``_following`` (whether its configs are the store's), :attr:`last_report`,
    :attr:`cached_valid_scoped_models`, :meth:`invalidate`, :meth:`reload` and
    :meth:`persist_provider_configs`."""

    if TYPE_CHECKING:  # set by the manager (not annotations of the public class)
        store: CatalogStore | None
        last_report: DiscoveryReport | None
        cached_valid_scoped_models: list[str] | None
        _following: bool

        @property
        def providers(self) -> dict[str, ProviderConfig]: ...

        @property
        def service(self) -> ModelDiscoveryService: ...

        def invalidate(self) -> None: ...

        def reload(self) -> None: ...

        def persist_provider_configs(self, data_directory: str | Path | None = None) -> Path: ...

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
        """Discover (and by default validate) the targeted providers: the one discovery entry
        point for new code. Returns a :class:`~provider_store.discovery.run_report.
        DiscoveryReport` with one :class:`ProviderSummary` per targeted provider.

        Over a store, each provider that succeeded is saved (``persist_on_success=False`` saves
        no curated list): its new valid models resolve at once, whatever happened to the other
        providers; a failed provider keeps what it had. ``report.ok`` is False when any
        provider failed (``report.failed`` names them, each summary's ``error`` says why), when
        every provider was skipped, or when a result could not be saved; a provider renamed,
        removed or edited during the run is not saved and fails. ``progress`` is called from
        one thread at a time (not necessarily the caller's); an exception it raises stops the
        run (verdicts already stored stay, no curated list is written) and is raised here.
        See :func:`provider_store.discovery.run.run_discovery` for the rules. The report is
        also kept as :attr:`last_report`.
        """
        return self._run(
            all_or_nothing=False,
            force_refresh=force_refresh,
            persist=persist_on_success,
            provider=provider,
            validate=validate,
            concurrency=concurrency,
            per_provider=per_provider,
            deadline=deadline,
            progress=progress,
        )

    def _run(
        self,
        *,
        all_or_nothing: bool,
        force_refresh: bool,
        persist: bool,
        provider: str | None,
        validate: bool = True,
        concurrency: int | None = None,
        per_provider: int | None = None,
        deadline: float | None = None,
        progress: ProgressCallback | None = None,
    ) -> DiscoveryReport:
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
        try:
            report = run_discovery(
                self.providers,
                self.service,
                options,
                store=self.store if persist else None,
                provider=provider,
                progress=progress,
                all_or_nothing=all_or_nothing,
            )
        finally:
            self.invalidate()
        if report.lists_changed:
            if self.store is not None and persist and not all_or_nothing:
                # A provider's results were refused (it changed meanwhile): read the store.
                self.reload()
            else:
                # What this run found is in memory only: do not replace it with the store's
                # view (as after an item assignment); reload() follows the store again.
                self._following = False
        self.last_report = report
        return report

    def discover_models(
        self,
        force_refresh: bool = False,
        persist_on_success: bool = True,
        provider: str | None = None,
        data_directory: str | Path | None = None,
    ) -> bool:
        """Legacy entry point: discover and validate every provider with a usable key (or only
        ``provider``); new code calls :meth:`discover`, which returns the full report.

        True when every targeted provider succeeded (an unknown ``provider`` gives False, as
        does a run where every provider was skipped for want of an API key, or whose results
        could not be saved). All or nothing, as the legacy class: with ``persist_on_success``
        the curated lists are saved only when every targeted provider succeeded. The
        per-provider summary is in :attr:`last_report`; :attr:`cached_valid_scoped_models` is
        reset to None. A manager without a store writes the legacy YAML file to
        ``data_directory`` instead, when one is given (see :meth:`persist_provider_configs`).
        """
        report = self._run(
            all_or_nothing=True,
            force_refresh=force_refresh,
            persist=persist_on_success,
            provider=provider,
        )
        if report.ok and persist_on_success and self.store is None and data_directory is not None:
            self.persist_provider_configs(data_directory)
        return report.ok
