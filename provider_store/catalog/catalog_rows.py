"""CatalogRows: every row operation of the catalog that the library's wings call.

Rows <-> ProviderConfig, cache and verdict columns, provider problems, hand marks, listed
metadata and the change tokens. Each :class:`~provider_store.catalog.catalog_store.CatalogStore`
holds one as ``rows``; :class:`~provider_store.ProviderStore`'s documented operations call it,
and so do discovery, resolution, the registries and the exports. It is not a documented
operation itself: a library user reads and edits the catalog through ``ProviderStore``.

Methods that take ``session=`` never commit: the caller owns the transaction. Without a
session, each call runs in a short transaction of its own.

Why this module is long: it is the one place where rows become ProviderConfigs and back, and
every row operation a wing calls is one short method here, each opening its own transaction the
same way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete
from sqlmodel import Session, col, select

from provider_store.catalog import cache_rows, change_marker, config_rows
from provider_store.catalog.change_marker import ChangeTokens, provider_scope
from provider_store.catalog.light_tables import PROVIDER
from provider_store.catalog.records import ValidationResult
from provider_store.catalog.states import utc_now
from provider_store.errors import InvalidDocumentError, NotFoundError
from provider_store.provider_config import ProviderConfig
from provider_store.rules import (
    MAX_INTEGER,
    api_key_problem,
    check_cache_ttl,
    check_provider_settings,
    check_seconds,
    check_text,
    check_whole_number,
)
from provider_store.suggestions import unknown_model_message, unknown_provider

if TYPE_CHECKING:
    from provider_store.catalog.catalog_store import CatalogStore
    from provider_store.catalog.tables import Provider
    from provider_store.model_info import ModelInfo

# The SQLModel table classes (tables.py) are imported by the methods that write or return ORM
# rows: reading configs, change tokens or listed metadata goes through light Core clauses
# (light_tables.py) and never builds them (start-up time). Hand marks and the curated-model plan
# are imported by the methods that use them.

_P = PROVIDER.c


def writing(store: CatalogStore, session: Session | None) -> AbstractContextManager[Session]:
    """``session`` when the caller has one, else a write transaction of ``store`` of its own."""
    return nullcontext(session) if session is not None else store.transaction()


def reading(store: CatalogStore, session: Session | None) -> AbstractContextManager[Session]:
    """``session`` when the caller has one, else a read transaction of ``store`` of its own."""
    return nullcontext(session) if session is not None else store.read()


class CatalogRows:
    """The row operations of one catalog, each in the caller's session or a short transaction
    of its own."""

    def __init__(self, store: CatalogStore) -> None:
        self.store = store

    def read_change_marker(self) -> str:
        """A short value that changes with every committed write, by any process, that changed
        a provider or its models; see :mod:`provider_store.catalog.change_marker`."""
        with self.store.read() as session:
            return change_marker.read(session)

    def change_tokens(self, *, session: Session | None = None) -> ChangeTokens:
        """Which providers changed: each provider's change token (catalog order) and the token
        of the last write that did not say which; see :mod:`~provider_store.catalog.change_marker`.
        """
        with reading(self.store, session) as s:
            return change_marker.read_tokens(s)

    # -- providers ----------------------------------------------------------------------------

    def provider_keys(self, *, session: Session | None = None) -> list[str]:
        """Provider keys in catalog order."""
        with reading(self.store, session) as s:
            return list(s.execute(select(_P.key).order_by(_P.position, _P.id)).scalars())

    def get_provider(self, key: str, *, session: Session) -> Provider:
        """The provider row for ``key``; NotFoundError names the key when there is none."""
        from provider_store.catalog.tables import Provider

        row = session.exec(select(Provider).where(Provider.key == key)).one_or_none()
        if row is None:
            raise unknown_provider(key, self.provider_keys(session=session))
        return row

    def get_config(self, key: str, *, session: Session | None = None) -> ProviderConfig:
        """The provider ``key`` as a ProviderConfig, with its discovery cache attached."""
        with reading(self.store, session) as s:
            found = config_rows.load_configs(s, [key])
            if key not in found:
                raise unknown_provider(key, self.provider_keys(session=s))
            return found[key]

    def load_configs(
        self, *, keys: Iterable[str] | None = None, session: Session | None = None
    ) -> dict[str, ProviderConfig]:
        """Every provider (or those of ``keys`` that exist) as a ProviderConfig, in catalog
        order."""
        with reading(self.store, session) as s:
            return config_rows.load_configs(s, None if keys is None else list(keys))

    def save_config(
        self,
        key: str,
        config: ProviderConfig,
        *,
        extra: dict[str, Any] | None = None,
        session: Session | None = None,
    ) -> None:
        """Insert or update provider ``key`` and its curated models from ``config``.

        The discovery cache, validation verdicts and sightings of models already stored are kept.
        ``kind`` and ``options`` of an existing provider change only when ``config`` sets them
        (a config from :meth:`get_config` always does).
        A curated model that the config no longer lists is dropped, unless discovery has seen it,
        in which case it stays as ``unverified``. Settings the importer would refuse (a key, URL,
        kind or option that breaks :func:`~provider_store.rules.check_provider_settings`, a
        name, API key, model id or alias past its limits: :func:`check_provider_values`) raise
        InvalidDocumentError (OptionsError for kind and options) naming the field, and nothing
        is written. A new provider whose key differs from a stored one only in case is refused
        (ConfigurationError); it starts with no history.
        """
        kind, options = check_provider_settings(
            key, base_api_url=config.base_api_url, kind=config.kind, options=config.options
        )
        check_provider_values(key, config)
        from provider_store.catalog import provider_edits
        from provider_store.catalog.tables import Provider

        now = utc_now()
        with writing(self.store, session) as s, provider_scope(s, key):
            provider = s.exec(select(Provider).where(Provider.key == key)).one_or_none()
            if provider is None:
                provider_edits.refuse_case_twin(s, key)
                provider_edits.drop_history(s, key)
                position = len(self.provider_keys(session=s))
                provider = Provider(
                    key=key,
                    name=config.name,
                    base_api_url=config.base_api_url,
                    api_key=config.api_key,
                    position=position,
                    extra=dict(extra or {}),
                    cache_ttl_seconds=config.list_cache.ttl_seconds,
                    kind=kind,
                    options=options,
                    created_at=now,
                    updated_at=now,
                )
                s.add(provider)
                s.flush()
            else:
                provider.name = config.name
                provider.base_api_url = config.base_api_url
                provider.api_key = config.api_key
                if extra is not None:
                    provider.extra = dict(extra)
                if config.model_fields_set & {"kind", "options"}:
                    provider.kind, provider.options = kind, options
                provider.updated_at = now
                s.add(provider)
                s.flush()
            assert provider.id is not None
            sync_models(s, provider.id, config)

    def update_curated(
        self,
        key: str,
        change: Callable[[ProviderConfig], None],
        *,
        session: Session | None = None,
    ) -> bool:
        """Apply ``change`` to provider ``key``'s curated lists as stored now, and store them.

        The provider row is locked and re-read inside the transaction; only the curated model
        rows are written (never its name, URL or key); a model the user marked by hand stays in
        the list its mark names. False, with nothing written, when there is no such provider.
        """
        return not self.update_curated_many({key: change}, session=session)

    def update_curated_many(
        self,
        changes: Mapping[str, Callable[[ProviderConfig], None]],
        *,
        session: Session | None = None,
    ) -> list[str]:
        """:meth:`update_curated` for several providers, with one query per step for all of them
        (their rows are locked in id order); the keys without a provider, which get nothing."""
        from provider_store.catalog import curated_lists  # writes only

        with writing(self.store, session) as s, provider_scope(s, *changes):
            return curated_lists.update_curated(s, changes)

    def hand_marks(self, key: str, *, session: Session | None = None) -> dict[str, str]:
        """Model id -> ``valid`` / ``invalid`` for the models of ``key`` the user marked by hand."""
        with reading(self.store, session) as s:
            provider = self.get_provider(key, session=s)
            assert provider.id is not None
            from provider_store.catalog import hand_marks

            return hand_marks.read_marks(s, provider.id)

    def hand_marks_of(
        self, keys: Iterable[str], *, session: Session | None = None
    ) -> dict[str, dict[str, str]]:
        """:meth:`hand_marks` of each of ``keys``, in one query (an unknown key has none)."""
        from provider_store.catalog import hand_marks

        with reading(self.store, session) as s:
            return hand_marks.marks_of(s, keys)

    def delete_provider(self, key: str, *, session: Session | None = None) -> None:
        """Remove a provider and (by cascade) its models."""
        from provider_store.catalog.tables import Model

        with writing(self.store, session) as s, provider_scope(s, key):
            provider = self.get_provider(key, session=s)
            s.execute(delete(Model).where(col(Model.provider_id) == provider.id))
            s.delete(provider)

    def set_cache_ttl(self, key: str, seconds: int, *, session: Session | None = None) -> None:
        """Set how long a provider's discovery cache stays fresh (0 to
        :data:`~provider_store.rules.MAX_CACHE_TTL` seconds, else InvalidDocumentError)."""
        seconds = check_cache_ttl(seconds, field=f"providers.{key}.cache_ttl_seconds")
        with writing(self.store, session) as s, provider_scope(s, key):
            provider = self.get_provider(key, session=s)
            provider.cache_ttl_seconds = seconds
            provider.updated_at = utc_now()
            s.add(provider)

    def read_cache(self, key: str, *, session: Session | None = None) -> cache_rows.CacheState:
        """Provider ``key``'s discovery cache, TTL and last discovery error, as stored."""
        with reading(self.store, session) as s:
            return cache_rows.read_cache(s, key)

    def write_cache(
        self,
        key: str,
        models: list[dict[str, Any]],
        *,
        fetched_at: float,
        session: Session | None = None,
    ) -> None:
        """Store a freshly fetched model list, clear the last error and record sightings."""
        with writing(self.store, session) as s, provider_scope(s, key):
            cache_rows.write_cache(s, key, models, fetched_at)

    def record_discovery_error(
        self,
        key: str,
        message: str,
        *,
        status: int | None = None,
        at: float | None = None,
        session: Session | None = None,
    ) -> None:
        """Record a failed refresh (a key-free message, HTTP status, time); the cache is kept."""
        with writing(self.store, session) as s, provider_scope(s, key):
            cache_rows.record_error(s, key, message, status, utc_now() if at is None else at)

    def record_verdicts(
        self,
        provider_key: str,
        results: Iterable[ValidationResult],
        *,
        session: Session | None = None,
    ) -> None:
        """Store validation verdicts on the provider's model rows (created unverified if absent)."""
        with writing(self.store, session) as s, provider_scope(s, provider_key):
            cache_rows.record_verdicts(s, provider_key, results)

    def load_verdicts(
        self,
        provider_key: str,
        *,
        models: Iterable[str] | None = None,
        session: Session | None = None,
    ) -> dict[str, ValidationResult]:
        """Stored verdicts by model id (only of ``models`` when given)."""
        with reading(self.store, session) as s:
            return cache_rows.load_verdicts(s, provider_key, models)

    def verdicts_of(
        self, keys: Iterable[str], *, session: Session | None = None
    ) -> dict[str, dict[str, ValidationResult]]:
        """:meth:`load_verdicts` of each of ``keys``, in one query (an unknown key has none)."""
        with reading(self.store, session) as s:
            return cache_rows.verdicts_of(s, keys)

    def read_problem(
        self, key: str, *, session: Session | None = None
    ) -> tuple[str | None, float | None]:
        """The provider problem of ``key`` (a rejected key, no credit) and when it was seen."""
        with reading(self.store, session) as s:
            return cache_rows.read_problem(s, key)

    def set_problem(
        self,
        key: str,
        problem: str | None,
        *,
        at: float | None = None,
        session: Session | None = None,
    ) -> None:
        """Record a key-free provider problem on ``key``, or clear it with ``None``."""
        with writing(self.store, session) as s, provider_scope(s, key):
            cache_rows.set_problem(s, key, problem, utc_now() if at is None else at)

    # -- model metadata -----------------------------------------------------------------------

    def model_info(
        self, provider_key: str, model_id: str, *, session: Session | None = None
    ) -> ModelInfo:
        """What provider ``provider_key`` listed about ``model_id``, with its raw listed item.

        Unknown fields are None. NotFoundError names the provider or the model when the catalog
        has no such provider or no such model of it.
        """
        from provider_store.catalog import metadata_columns

        with reading(self.store, session) as s:
            found = metadata_columns.read_model_infos(s, provider_key, [model_id])
        if model_id not in found:
            raise NotFoundError(unknown_model_message(f"{provider_key}/{model_id}"))
        return found[model_id]

    def list_model_infos(
        self, provider_key: str, *, session: Session | None = None
    ) -> dict[str, ModelInfo]:
        """Every model of ``provider_key`` in the catalog (curated or discovered), by model id."""
        from provider_store.catalog import metadata_columns

        with reading(self.store, session) as s:
            return metadata_columns.read_model_infos(s, provider_key)

    def write_model_infos(
        self, provider_key: str, infos: Iterable[ModelInfo], *, session: Session | None = None
    ) -> int:
        """Store listed metadata on existing model rows (see :func:`write_model_infos`)."""
        from provider_store.catalog import metadata_columns

        with writing(self.store, session) as s, provider_scope(s, provider_key):
            return metadata_columns.write_model_infos(s, provider_key, infos)

    def removal_policy(self, key: str, *, session: Session | None = None) -> tuple[int, float]:
        """Provider ``key``'s removal policy: (complete listings in a row, minimum age in
        seconds) a model must be missing for before it is removed (defaults
        :data:`~provider_store.rules.limits.DEFAULT_REMOVAL_CONFIRMATIONS` and
        :data:`~provider_store.rules.limits.DEFAULT_REMOVAL_MIN_AGE_SECONDS`)."""
        with reading(self.store, session) as s:
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
        for a count that is not a whole number from 1 to :data:`~provider_store.rules.MAX_INTEGER`
        or an age that is not a number of seconds from 0 to
        :data:`~provider_store.rules.MAX_SPAN_SECONDS`."""
        if confirmations is not None:
            confirmations = check_whole_number(
                confirmations, field="removal_confirmations", low=1, high=MAX_INTEGER
            )
        if min_age_seconds is not None:
            min_age_seconds = check_seconds(min_age_seconds, field="removal_min_age_seconds")
        with writing(self.store, session) as s, provider_scope(s, key):
            provider = self.get_provider(key, session=s)
            if confirmations is not None:
                provider.removal_confirmations = confirmations
            if min_age_seconds is not None:
                provider.removal_min_age_seconds = min_age_seconds
            s.add(provider)


def check_provider_values(key: str, config: ProviderConfig) -> None:
    """Refuse (InvalidDocumentError naming the field) a name, API key, model id or alias of
    ``config`` that the YAML importer would refuse: the limits of :mod:`provider_store.rules`."""
    base = f"providers.{key}"
    check_text(config.name, field=f"{base}.name")
    problem = api_key_problem(config.api_key)
    if problem is not None:
        raise InvalidDocumentError(problem, field=f"{base}.api_key")
    for model_id, alias in config.valid_models.items():
        where = f"{base}.valid_models[{model_id[:40]!r}]"
        check_text(model_id, field=where, empty=False)
        check_text(alias, field=where)
    for index, model_id in enumerate(config.invalid_models):
        check_text(model_id, field=f"{base}.invalid_models[{index}]", empty=False)


def sync_models(session: Session, provider_id: int, config: ProviderConfig) -> None:
    """Make the curated models of ``provider_id`` match ``config`` (see :mod:`model_plan`)."""
    from provider_store.catalog import model_plan  # writes only

    conn = session.connection()
    stored = model_plan.stored_models(conn, [provider_id]).get(provider_id, [])
    wanted = model_plan.wanted_models(config.valid_models, config.invalid_models)
    model_plan.apply_plans(conn, [model_plan.plan_models(provider_id, stored, wanted)])
