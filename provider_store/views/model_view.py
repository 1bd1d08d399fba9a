"""The one model view: what the catalog says about a model, for one model or many at once.

A :class:`ModelView` holds, for one model, the effective value of every metadata field with
its source (the user's override, then the provider's list, then the registries in the
provider's order: :mod:`provider_store.catalog.reconcile`), and the model's status with why:

- ``valid``: in ``valid_models``; it resolves and is exported;
- ``missing``: curated (valid or invalid) but absent from the provider's last complete
  listing and not yet confirmed removed; a valid one still resolves. ``status_reason`` says
  since when and how many confirmations its removal still needs;
- ``invalid``: in ``invalid_models``, with its verdict or hand mark;
- ``unverified``: listed (or once listed) but in neither list; ``status_reason`` always says
  why (never validated, the provider failed, a verdict not saved, removed from the listing).

:func:`read_model_views` reads every model of many providers with a fixed number of queries
(:func:`~provider_store.catalog.model_view_rows.read_view_rows`), so ``models list`` costs the
same per model on ten models as on a hundred thousand. :func:`select_views` is the one
filter every face applies (``--min-context``, ``--capability``, the price limits,
``--deprecated``).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from provider_store.catalog.model_view_rows import (
    ModelRow,
    ProviderRow,
    Sourced,
    SourcedMetadata,
    read_view_rows,
)
from provider_store.catalog.states import ModelStatus, Verdict
from provider_store.errors import NotFoundError
from provider_store.model_info import METADATA_FIELDS, metadata_field
from provider_store.rules import iso_utc
from provider_store.rules.spans import describe_seconds
from provider_store.suggestions import unknown_model_message

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from provider_store.catalog.catalog_store import CatalogStore

__all__ = [
    "MISSING",
    "STATUSES",
    "ModelView",
    "model_view",
    "model_views",
    "read_model_views",
    "select_views",
]

MISSING = "missing"
# Every status a view can have, in the order ``models list --all`` lists them.
STATUSES = (ModelStatus.VALID.value, MISSING, ModelStatus.INVALID.value, "unverified")
_VALID = ModelStatus.VALID.value
_INVALID = ModelStatus.INVALID.value


@dataclass(frozen=True, slots=True)
class ModelView:
    """One model as every face of the catalog shows it.

    ``status`` is ``valid``, ``missing``, ``invalid`` or ``unverified`` and ``status_reason``
    why (None for a plain valid model); ``curated`` the list the model is in (``valid``,
    ``invalid`` or ``unverified``: a missing model is still in its list). ``alias`` is None
    where none was set. ``metadata`` is the reconciliation: every field's value with its
    source, the other sources' values and why one won.
    """

    provider: str
    model: str
    alias: str | None
    status: str
    status_reason: str | None
    curated: str
    verdict: str | None
    verdict_reason: str | None
    verdict_at: float | None
    hand_mark: str | None
    missing_count: int
    missing_since: float | None
    metadata: SourcedMetadata

    @property
    def name(self) -> str:
        """``provider/model``."""
        return f"{self.provider}/{self.model}"

    @property
    def usable(self) -> bool:
        """True when the model resolves and is exported: it is in ``valid_models`` (a missing
        one too, until its removal is confirmed)."""
        return self.curated == _VALID

    def value(self, field: str) -> Any:
        """The effective value of ``field`` as stored (None when no source knows it)."""
        found = self.metadata.values.get(field)
        return None if found is None else found.value

    def source(self, field: str) -> str | None:
        """Where the effective value of ``field`` comes from (``listed``, ``user``,
        ``models.dev 1.0.398`` ...), None when no source knows it."""
        found = self.metadata.values.get(field)
        return None if found is None else found.source

    def plain(self, field: str) -> Any:
        """The effective value of ``field`` as JSON writes it (None when no source knows it):
        a price in USD per million tokens, ``created`` a UTC date, a list as a list."""
        return _plain(field, self.value(field))

    @property
    def values(self) -> dict[str, Any]:
        """Every metadata field's effective value as JSON writes it (null when unknown)."""
        return {f.name: self.plain(f.name) for f in METADATA_FIELDS}

    @property
    def sources(self) -> dict[str, dict[str, str | None]]:
        """Field -> ``{"source": ..., "observed_at": ISO time}`` for every known value."""
        return {
            name: {"source": found.source, "observed_at": iso_utc(found.observed_at)}
            for name, found in self.metadata.values.items()
        }

    @property
    def deprecation(self) -> str | None:
        """A registry's (or the user's) word on deprecation: ``deprecated (models.dev
        1.0.398)`` or ``deprecated from 2026-01-31 (litellm …)``; None when none says so."""
        return deprecation_words(self.metadata.values)

    def as_json(self, fields: Collection[str] | None = None) -> dict[str, Any]:
        """A JSON-ready dict: names, status and why, each metadata field's value (every field,
        or those of ``fields``) and the source of each known one."""
        values = self.values
        if fields is not None:
            values = {name: value for name, value in values.items() if name in fields}
        return {
            "provider": self.provider,
            "model": self.model,
            "alias": self.alias,
            "status": self.status,
            "status_reason": self.status_reason,
            **values,
            "sources": {name: s for name, s in self.sources.items() if name in values},
        }


def deprecation_words(values: dict[str, Sourced]) -> str | None:
    """``deprecated from DATE (source)`` or ``deprecated (source)``; None when not said."""
    flag, when = values.get("deprecated"), values.get("deprecation_date")
    if when is not None:
        return f"deprecated from {when.value} ({when.source})"
    if flag is not None and flag.value:
        return f"deprecated ({flag.source})"
    return None


def _plain(field: str, value: Any) -> Any:
    described = metadata_field(field)
    if described is None or value is None:
        return value
    return described.to_plain(described.from_column(value))


def read_model_views(
    session: Session,
    providers: Collection[str] | None = None,
    *,
    models: Collection[str] | None = None,
) -> list[ModelView]:
    """The view of every model of ``providers`` (every provider when None; only ``models``
    ids when given), per provider in catalog order: valid and missing models first (in
    curated order), then invalid, then unverified."""
    found, rows = read_view_rows(session, providers, models)
    views = [_view(row, found[row.provider]) for row in rows]
    rank = {status: i for i, status in enumerate((_VALID, _INVALID, "unverified"))}
    position = {key: i for i, key in enumerate(found)}
    return sorted(views, key=lambda v: (position[v.provider], rank.get(v.curated, 3)))


def model_views(
    store: CatalogStore,
    providers: Collection[str] | None = None,
    *,
    models: Collection[str] | None = None,
) -> list[ModelView]:
    """:func:`read_model_views` in one read transaction of ``store``."""
    with store.read() as session:
        return read_model_views(session, providers, models=models)


def model_view(store: CatalogStore, provider: str, model: str) -> ModelView:
    """The view of model ``model`` of provider ``provider`` (exact key and id);
    NotFoundError (with suggestions) when the catalog has no such model."""
    found = model_views(store, [provider], models=[model])
    if not found:
        raise NotFoundError(unknown_model_message(f"{provider}/{model}"))
    return found[0]


def select_views(
    views: Iterable[ModelView],
    *,
    min_context: int | None = None,
    capabilities: Collection[str] = (),
    max_input_price: float | None = None,
    max_output_price: float | None = None,
    deprecated: bool = False,
) -> list[ModelView]:
    """The views whose effective values pass every filter given: a context length of at
    least ``min_context``, every capability of ``capabilities`` (ignoring case), prices at
    most the limits, and (``deprecated``) a word on deprecation. A model whose value is
    unknown does not pass a filter on it."""
    wanted = {c.strip().lower() for c in capabilities}
    kept = []
    for view in views:
        if min_context is not None and (view.value("context_length") or 0) < min_context:
            continue
        if wanted and not wanted <= {str(c).lower() for c in view.value("capabilities") or ()}:
            continue
        if not _at_most(view.value("input_price"), max_input_price):
            continue
        if not _at_most(view.value("output_price"), max_output_price):
            continue
        if deprecated and view.deprecation is None:
            continue
        kept.append(view)
    return kept


def _at_most(value: Any, limit: float | None) -> bool:
    return limit is None or (value is not None and float(value) <= limit)


def _view(row: ModelRow, provider: ProviderRow) -> ModelView:
    alias = row.alias if row.status == _VALID and row.alias and row.alias != row.model_id else None
    status, reason = _status(row, provider)
    return ModelView(
        provider=row.provider,
        model=row.model_id,
        alias=alias,
        status=status,
        status_reason=reason,
        curated=row.status,
        verdict=row.verdict,
        verdict_reason=row.verdict_reason,
        verdict_at=row.verdict_at,
        hand_mark=row.hand_mark,
        missing_count=row.missing_count,
        missing_since=row.missing_since,
        metadata=row.metadata,
    )


def _status(row: ModelRow, provider: ProviderRow) -> tuple[str, str | None]:
    """The model's status and why (see the module docstring)."""
    key = provider.key
    if row.status in (_VALID, _INVALID) and row.missing_count > 0 and row.removed_at is None:
        return MISSING, _missing_reason(row, provider)
    if row.hand_mark:
        return row.status, row.verdict_reason or f"marked {row.hand_mark} by hand"
    if row.status == _VALID:
        return _VALID, None
    if row.status == _INVALID:
        return _INVALID, f"pinged invalid{_said(row.verdict_reason)}"
    if row.removed_at is not None:
        return "unverified", (
            f"removed from {key}'s listing at {iso_utc(row.removed_at)} (absent from"
            f" {row.missing_count} complete listings in a row)"
        )
    failed = _provider_failure(provider)
    if row.verdict is None:
        if failed:
            return "unverified", f"not validated: {failed}"
        return "unverified", f"listed but never validated (run: provider-store discover {key})"
    if row.verdict == Verdict.VALID.value:
        cause = failed or "its provider's results were not saved since"
        return "unverified", (
            f"pinged valid at {iso_utc(row.verdict_at)} but not in valid_models: {cause}"
            f" (run: provider-store discover {key})"
        )
    if row.verdict == Verdict.INVALID.value:
        return "unverified", f"pinged invalid{_said(row.verdict_reason)}"
    problem = f"; {failed}" if failed else ""
    return "unverified", f"listed but inconclusive{_said(row.verdict_reason)}{problem}"


def _said(reason: str | None) -> str:
    return f": {reason}" if reason else ""


def _provider_failure(provider: ProviderRow) -> str | None:
    """``provider KEY failed: …`` when its last discovery or a ping found a problem."""
    if provider.last_error:
        return f"provider {provider.key} failed: {provider.last_error}"
    if provider.problem:
        return f"provider {provider.key} has a problem: {provider.problem}"
    return None


def _missing_reason(row: ModelRow, provider: ProviderRow) -> str:
    left = max(0, provider.removal_confirmations - row.missing_count)
    age = describe_seconds(provider.removal_min_age_seconds)
    since = iso_utc(row.missing_since)
    return (
        f"missing from the listing of {iso_utc(provider.listed_at)} (absent from"
        f" {row.missing_count} complete listing{'s' if row.missing_count != 1 else ''} in a row"
        f" since {since}); removal after {provider.removal_confirmations} confirmations"
        f" ({left} more) and {age} missing"
    )
