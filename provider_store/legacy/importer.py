"""Legacy YAML import for a ProviderStore: the store side of
:mod:`~provider_store.legacy.document`.

Import runs in one transaction (all or nothing) with bulk Core statements. It changes only the
curated fields (name, base URL, API key, unknown keys, valid and invalid models) and never the
discovery cache, validation verdicts or sightings of rows that already exist. A curated model that
the file no longer lists is deleted, unless discovery has seen it, in which case it stays as
``unverified`` (the rule :func:`provider_store.catalog.catalog_rows.sync_models` follows too).

Merge (the default) inserts or updates the providers of the file field by field and leaves other
providers alone; unknown keys are merged key by key; a provider without ``invalid_models`` in the
file keeps its stored list. Replace makes the store equal to the file. Dry run computes the same
report and writes nothing. The export is in :mod:`provider_store.legacy.exporter`.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Table, delete, insert, select, update

from provider_store.catalog.change_marker import provider_scope
from provider_store.catalog.model_plan import (
    ModelPlan,
    StoredModel,
    Wanted,
    apply_plans,
    chunks,
    plan_models,
    stored_models,
    wanted_models,
)
from provider_store.catalog.provider_edits import drop_history
from provider_store.catalog.states import ModelStatus, utc_now
from provider_store.catalog.tables import CatalogMeta, Model, Provider
from provider_store.errors import InvalidDocumentError
from provider_store.legacy import metadata_section
from provider_store.legacy.document import LegacyDocument, LegacyProvider, load_path, parse_bytes
from provider_store.legacy.import_report import ImportReport, ProviderChange
from provider_store.rules import DEFAULT_MAX_MODELS

if TYPE_CHECKING:
    from provider_store.catalog.catalog_store import CatalogStore as ProviderStore

logger = logging.getLogger(__name__)

# CatalogMeta key holding the unknown top-level keys of the legacy document, in order.
TOP_LEVEL_EXTRA_KEY = "legacy_yaml.extra"

_providers: Table = Provider.__table__  # type: ignore[attr-defined]
_models: Table = Model.__table__  # type: ignore[attr-defined]
_meta: Table = CatalogMeta.__table__  # type: ignore[attr-defined]
_VALID, _INVALID, _UNVERIFIED = (
    ModelStatus.VALID.value,
    ModelStatus.INVALID.value,
    ModelStatus.UNVERIFIED.value,
)


# -- import -------------------------------------------------------------------------------------


def import_yaml(
    store: ProviderStore,
    path: str | Path,
    *,
    replace: bool = False,
    dry_run: bool = False,
    data: bytes | None = None,
    max_models: int = DEFAULT_MAX_MODELS,
) -> ImportReport:
    """Import the legacy document at ``path`` (or ``data``, named ``path``) in one transaction.

    A provider listing more than ``max_models`` models refuses the whole file.
    """
    document = (
        load_path(path, max_models=max_models)
        if data is None
        else parse_bytes(data, source=str(path), max_models=max_models)
    )
    report = ImportReport(
        path=str(path),
        replace=replace,
        dry_run=dry_run,
        providers_in_file=len(document.providers),
        models_in_file=sum(
            len(p.valid_models) + len(p.invalid_models) for p in document.providers.values()
        ),
    )
    session_scope = store.read() if dry_run else store.transaction()
    with session_scope as session, provider_scope(session, *document.providers):
        # Named: running managers re-read only the file's providers (and drop removed ones).
        _Importer(session.connection(), document, report, write=not dry_run).run()
    logger.info(
        "Imported %s (%s%s): %s",
        path,
        "replace" if replace else "merge",
        ", dry run" if dry_run else "",
        report.counts(),
    )
    return report


class _Importer:
    """Plans the changes of one import; applies them with bulk statements unless a dry run."""

    def __init__(
        self, conn: Connection, document: LegacyDocument, report: ImportReport, *, write: bool
    ) -> None:
        self.conn = conn
        self.document = document
        self.report = report
        self.write = write
        self.now = utc_now()

    def run(self) -> None:
        c = _providers.c
        stored = {
            row.key: row
            for row in self.conn.execute(
                select(c.id, c.key, c.name, c.base_api_url, c.api_key, c.position, c.extra,
                       c.kind, c.options)
                .order_by(c.position, c.id)
            )
        }  # fmt: skip
        replace = self.report.replace
        file_keys = self.document.providers
        removed = [row for key, row in stored.items() if key not in file_keys] if replace else []
        existing = [stored[key] for key in file_keys if key in stored]
        models = stored_models(self.conn, [row.id for row in existing + removed])

        for row in removed:
            curated = [m.model_id for m in models.get(row.id, []) if m.status != _UNVERIFIED]
            self.report.providers.append(ProviderChange(row.key, "removed", models_removed=curated))
        if removed and self.write:
            ids = [row.id for row in removed]
            self.conn.execute(delete(_models).where(_models.c.provider_id.in_(ids)))
            self.conn.execute(delete(_providers).where(c.id.in_(ids)))

        kept = {key.lower(): key for key in stored if key in file_keys or not replace}
        for key, provider in file_keys.items():
            twin = kept.get(key.lower(), key)
            if twin != key:
                raise InvalidDocumentError(
                    f"provider {key} differs from the stored provider {twin} only in case; keys"
                    f" are unique regardless of case: rename one (providers rename {twin} {key})",
                    path=self.document.source,
                    line=provider.line,
                    field=f"providers.{key}",
                )
        next_position = max((row.position for row in stored.values()), default=-1) + 1
        new_rows: list[dict[str, Any]] = []
        plans: list[tuple[int | str, LegacyProvider, list[StoredModel], ProviderChange]] = []
        for index, (key, provider) in enumerate(file_keys.items()):
            current = stored.get(key)
            if current is None:
                position = index if replace else next_position
                next_position += 1
                new_rows.append(self._new_provider_row(provider, position))
                change = ProviderChange(key, "added")
                plans.append((key, provider, [], change))
                continue
            change = ProviderChange(key, "changed")
            values = self._provider_updates(current, provider, index if replace else None, change)
            if values and self.write:
                values["updated_at"] = self.now
                self.conn.execute(update(_providers).where(c.id == current.id).values(**values))
            plans.append((current.id, provider, models.get(current.id, []), change))

        new_ids: dict[str, int] = {}
        if new_rows and self.write:
            drop_history(self.conn, *(r["key"] for r in new_rows))  # new: no history
            self.conn.execute(insert(_providers), new_rows)
            for chunk in chunks([r["key"] for r in new_rows]):
                found = self.conn.execute(select(c.key, c.id).where(c.key.in_(chunk)))
                new_ids.update((k, i) for k, i in found)

        model_plans: list[ModelPlan] = []
        for ref, provider, old_models, change in plans:
            provider_id = new_ids.get(ref, 0) if isinstance(ref, str) else ref
            model_plans.append(self._plan_models(provider_id, provider, old_models, change))
            if (
                change.action == "added"
                or change.fields
                or change.models_added
                or (change.models_removed or change.models_changed)
            ):
                self.report.providers.append(change)
        self._top_level_extra()
        if self.write:
            apply_plans(self.conn, model_plans)
        for ref, provider, _old_models, change in plans:
            if provider.model_metadata is None:
                continue
            provider_id = new_ids.get(ref, 0) if isinstance(ref, str) else ref
            if (
                metadata_section.import_metadata(
                    self.conn, provider_id, provider.model_metadata, write=self.write
                )
                and change.action == "changed"
            ):
                change.fields.append("model metadata")
                if not any(c is change for c in self.report.providers):
                    self.report.providers.append(change)

    def _new_provider_row(self, provider: LegacyProvider, position: int) -> dict[str, Any]:
        return {
            "key": provider.key,
            "name": provider.name,
            "base_api_url": provider.base_api_url,
            "api_key": provider.api_key,
            "position": position,
            "cache_ttl_seconds": Provider.model_fields["cache_ttl_seconds"].default,
            "extra": provider.extra,
            "kind": provider.kind,
            "options": provider.options,
            "created_at": self.now,
            "updated_at": self.now,
        }

    def _provider_updates(
        self, row: Any, provider: LegacyProvider, position: int | None, change: ProviderChange
    ) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name in ("name", "base_api_url", "api_key", "kind", "options"):
            if getattr(row, name) != getattr(provider, name):
                values[name] = getattr(provider, name)
        old_extra: dict[str, Any] = dict(row.extra or {})
        extra = provider.extra if self.report.replace else {**old_extra, **provider.extra}
        if list(extra.items()) != list(old_extra.items()):
            values["extra"] = extra
        if position is not None and row.position != position:
            values["position"] = position
        change.fields = [
            f"unknown key {k!r}" if k == "extra" else ("order" if k == "position" else k)
            for k in values
        ]
        return values

    def _plan_models(
        self,
        provider_id: int,
        provider: LegacyProvider,
        old_models: list[StoredModel],
        change: ProviderChange,
    ) -> ModelPlan:
        invalid: list[str] = provider.invalid_models
        if not provider.has_invalid_models and not self.report.replace:
            # Merge: a provider without invalid_models in the file keeps its stored list.
            valid = provider.valid_models
            invalid = [m.model_id for m in old_models
                       if m.status == _INVALID and m.model_id not in valid]  # fmt: skip
        wanted = wanted_models(provider.valid_models, invalid)
        plan = plan_models(provider_id, old_models, wanted)
        change.models_added += plan.added
        change.models_removed += plan.removed
        learned = {m.model_id for m in old_models
                   if m.first_seen_at is not None or m.verdict_at is not None}  # fmt: skip
        change.discovered_models_removed += [m for m in plan.removed if m in learned]
        change.models_changed += plan.changed
        if change.action == "changed" and _order(old_models, wanted):
            change.fields.append("model order")
        return plan

    def _top_level_extra(self) -> None:
        row = self.conn.execute(
            select(_meta.c.value).where(_meta.c.key == TOP_LEVEL_EXTRA_KEY)
        ).one_or_none()
        old: dict[str, Any] = dict(row[0] or {}) if row is not None else {}
        new = self.document.extra if self.report.replace else {**old, **self.document.extra}
        if list(new.items()) == list(old.items()):
            return
        self.report.top_level_keys_changed = [
            k for k in {**old, **new} if k not in old or k not in new or old[k] != new[k]
        ] or ["(order)"]
        if not self.write:
            return
        if row is None:
            self.conn.execute(insert(_meta).values(key=TOP_LEVEL_EXTRA_KEY, value=new))
        else:
            self.conn.execute(
                update(_meta).where(_meta.c.key == TOP_LEVEL_EXTRA_KEY).values(value=new)
            )


def _order(old_models: list[StoredModel], wanted: Wanted) -> bool:
    """Whether models kept by the import change their relative order."""
    for status in (_VALID, _INVALID):
        before = [m.model_id for m in old_models if m.status == status and m.model_id in wanted]
        kept = set(before)
        after = [k for k, v in wanted.items() if v[0] == status and k in kept]
        if before != after:
            return True
    return False
