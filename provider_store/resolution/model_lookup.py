"""The look-ups of :class:`~provider_store.resolution.manager.ProviderManager` that every command
and chat client shares: the four forms of a model string (:meth:`ModelLookup.resolve`,
:meth:`~ModelLookup.locate`, :meth:`~ModelLookup.search`; rules in
:mod:`provider_store.resolution.model_refs`), ranked completions (:meth:`~ModelLookup.complete`;
:mod:`provider_store.resolution.completions`), and the legacy look-ups kept as they were
(``find_model``, ``find_model_scoped``, ``unknown_prefix``, ``resolution_candidates``), and the
one model view of a model or of the whole catalog (:meth:`ModelLookup.model_view`,
:meth:`~ModelLookup.model_views`; :mod:`provider_store.views.model_view`).
"""

from __future__ import annotations

from types import TracebackType
from typing import TYPE_CHECKING, Self

from provider_store.catalog.catalog_store import CatalogStore
from provider_store.errors import ConfigurationError, UnknownModelError
from provider_store.provider_config import ProviderConfig
from provider_store.resolution.completions import Completion
from provider_store.resolution.model_refs import ModelRef, resolve_ref, search_refs
from provider_store.resolution.model_scopes import EveryModel
from provider_store.resolution.resolver import Resolver

if TYPE_CHECKING:
    from provider_store.views.model_view import ModelView

__all__ = ["NO_CATALOG_HINT", "ModelLookup"]

# What a resolution error of a manager with neither providers nor a store adds.
NO_CATALOG_HINT = (
    "this manager holds no providers: open the catalog with provider_store.open()"
    " or ProviderManager(store=ProviderStore())"
)


class ModelLookup:
    """Resolution in the four forms, completions and the legacy look-ups, over a manager's
    configs and store; and ``with manager:`` (closing it on leaving the block).

    The manager supplies :attr:`providers`, :attr:`resolver`, :attr:`store`, ``_following``
    (whether its configs are the store's), ``_every`` (every model the catalog holds) and
    :meth:`close`.
    """

    if TYPE_CHECKING:  # set by the manager (not annotations of the public class)
        resolver: Resolver
        store: CatalogStore | None
        _following: bool
        _every: EveryModel

    @property
    def providers(self) -> dict[str, ProviderConfig]:
        """The configs by provider key, in catalog order."""
        raise NotImplementedError

    def close(self) -> None:
        """Release what the manager holds."""
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _legacy_resolve(self, model_string: str, *, strict: bool) -> tuple[str, str]:
        """``(provider_key, long_id)`` by the legacy rules and messages (``Invalid model: m``;
        see ``get_api_for_model_string``), saying how to open the catalog when there is none."""
        try:
            return self.resolver.resolve(self.providers, model_string, strict=strict)
        except UnknownModelError as exc:
            raise self._hinted(exc) from None

    def unknown_prefix(self, model_string: str) -> str | None:
        """The prefix of ``model_string`` when it is not a provider and the whole string names no
        model, i.e. when non-strict resolution looks up only the part after the slash; else None.
        """
        return self.resolver.unknown_prefix(self.providers, model_string)

    def find_model(self, name: str) -> list[tuple[ProviderConfig, str]]:
        """``[(config, long_name), ...]``: each provider's ``config.find_model(name)`` match."""
        return [
            (self.providers[key], long) for key, long in self.resolver.find(self.providers, name)
        ]

    def find_model_scoped(self, name: str) -> list[str]:
        """Like :meth:`find_model`, as ``"provider/long"`` strings."""
        return self.resolver.find_scoped(self.providers, name)

    def resolution_candidates(self, model_string: str) -> list[str]:
        """Every ``provider/model`` a bare name matches (empty when it resolves uniquely or not)."""
        return self.resolver.candidates(self.providers, model_string)

    def _hinted(self, exc: UnknownModelError) -> UnknownModelError:
        """``exc``, saying how to open the catalog when this manager has nothing to look in."""
        if self.store is not None or self.providers:
            return exc
        return UnknownModelError(
            f"{exc.reason} ({NO_CATALOG_HINT})",
            model_string=exc.model_string,
            provider=exc.provider,
            suggestions=exc.suggestions,
        )

    def resolve(self, text: str, *, strict: bool = False) -> ModelRef:
        """The valid model ``text`` names: ``P/ALIAS``, ``ALIAS``, ``P/ID`` or ``ID``.

        The rules are :mod:`provider_store.resolution.model_refs`': a miss is an
        :class:`UnknownModelError` ``Unknown model: TEXT`` with the nearest models suggested;
        ``strict`` refuses a name several providers answer to (:class:`AmbiguousModelError`)
        and an unknown ``nope/...`` head; without it the first provider wins and
        :attr:`ModelRef.candidates` lists every match. Resolution only: nothing is sent to a
        provider. (:meth:`get_api_for_model_string` is the legacy face, with the old messages.)
        """
        try:
            return resolve_ref(self.resolver.names(self.providers), text, strict=strict)
        except UnknownModelError as exc:
            raise self._hinted(exc) from None

    def locate(self, text: str) -> ModelRef:
        """Any model the catalog holds (valid, invalid, unverified, listed, removed) that
        ``text`` names, in the four forms of :meth:`resolve`, strictly: what the commands that
        curate a model look up (see :mod:`provider_store.resolution.model_scopes`)."""
        try:
            return resolve_ref(self._every.names(*self._every_source()), text, strict=True)
        except UnknownModelError as exc:
            raise self._hinted(exc) from None

    def model_view(self, text: str) -> ModelView:
        """The one model view (:class:`~provider_store.views.model_view.ModelView`) of the model
        ``text`` names in the four forms of :meth:`locate`: every metadata field's effective
        value with its source, the status (``valid``, ``missing``, ``invalid``,
        ``unverified``) and why; what ``models show`` prints. Needs a store
        (:class:`~provider_store.errors.ConfigurationError` otherwise)."""
        from provider_store.views.model_view import model_view

        ref = self.locate(text)
        return model_view(self._viewed_store(), ref.provider, ref.model)

    def model_views(self, provider: str | None = None) -> list[ModelView]:
        """The model view of every model of the catalog (or of ``provider``), read in bulk:
        what ``models list --all`` shows (keep ``view.usable`` ones for the valid models);
        filter with :func:`provider_store.views.model_view.select_views`."""
        from provider_store.views.model_view import model_views

        return model_views(self._viewed_store(), None if provider is None else [provider])

    def _viewed_store(self) -> CatalogStore:
        if self.store is None:
            raise ConfigurationError(f"the model view reads a catalog; {NO_CATALOG_HINT}")
        return self.store

    def search(self, text: str) -> list[ModelRef]:
        """Each provider's best valid match for ``text`` (exact id, alias, then the first id or
        alias containing it, ignoring case), in catalog order; after ``P/`` only provider
        ``P``'s. :class:`UnknownModelError` ``Unknown model: TEXT`` (with the nearest models)
        when nothing matches. :meth:`find_model_scoped` is the legacy face (an empty list)."""
        try:
            return search_refs(self.resolver.names(self.providers), text)
        except UnknownModelError as exc:
            raise self._hinted(exc) from None

    def complete(self, text: str, *, limit: int = 20, every: bool = False) -> list[Completion]:
        """Up to ``limit`` ranked completions of a partly typed model string, best first:
        exact names, provider keys (``openai/``), aliases then ids starting with ``text``,
        then those containing it (:mod:`provider_store.resolution.completions`).

        Over the valid models (what :meth:`resolve` takes), or with ``every`` over every model
        (what :meth:`locate` takes). The index is kept until the catalog changes: a call costs
        microseconds. For prompt_toolkit, ``get_completions`` yields
        ``Completion(c.text, -len(typed), display_meta=c.meta)`` for each.
        """
        if every:
            index = self._every.completions(*self._every_source())
        else:
            index = self.resolver.completions(self.providers)
        return index.complete(text, limit=limit)

    def _every_source(self) -> tuple[dict[str, ProviderConfig], CatalogStore | None]:
        """The configs (following the store first: a change drops the scope) and the store to
        read every model from (None when the configs hold unsaved edits, or there is none)."""
        providers = self.providers
        return providers, self.store if self._following else None
