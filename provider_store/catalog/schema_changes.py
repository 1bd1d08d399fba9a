"""A catalog's schema revision as operations on one database: where it is, up, down.

:class:`~provider_store.ProviderStore`'s ``schema_status``, ``upgrade_schema``,
``plan_downgrade`` and ``downgrade_schema`` call these (``provider-store db`` is their face);
:mod:`~provider_store.catalog.migrate` holds the Alembic glue they use.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from provider_store.catalog import migrate
from provider_store.catalog.catalog_store import CatalogStore
from provider_store.catalog.db import redact_url
from provider_store.errors import ConfigurationError


@dataclass(frozen=True)
class SchemaStatus:
    """A catalog's schema revision (``current``; None: base, an empty database), the newest
    revision this release knows (``head``) and, after an upgrade or downgrade, the revision
    before it (``previous``)."""

    url: str
    current: str | None
    head: str | None
    previous: str | None = None

    @property
    def at_head(self) -> bool:
        """True when the schema is the newest this release knows."""
        return self.current == self.head


@dataclass(frozen=True)
class DowngradePlan:
    """What a downgrade from ``current`` to ``target`` (None: base) removes: ``drops`` says
    what the removed revisions added, ``providers`` and ``models`` what the catalog holds now
    (lost with the tables when ``target`` is base)."""

    current: str
    target: str | None
    providers: int
    models: int
    drops: str


def status(engine: Engine, *, previous: str | None = None) -> SchemaStatus:
    """The schema revision of the database behind ``engine``; NewerCatalogError when this
    release does not know it."""
    return SchemaStatus(
        url=redact_url(engine.url),
        current=migrate.check_known(engine),
        head=migrate.head_revision(),
        previous=previous,
    )


def upgrade(engine: Engine, revision: str = "head", *, force: bool = False) -> SchemaStatus:
    """Upgrade to ``revision`` (``head``, a revision id or ``+N``). A database that holds other
    tables and no catalog is refused (ForeignDatabaseError) unless ``force``."""
    current = migrate.check_known(engine)
    if current is None and not force:
        migrate.refuse_foreign(engine)
    migrate.resolve_revision(current, revision)
    migrate.upgrade(engine, revision)
    return status(engine, previous=current)


def plan_downgrade(engine: Engine, revision: str) -> DowngradePlan:
    """What downgrading to ``revision`` (a revision id, ``-N`` or ``base``) would remove;
    ConfigurationError when it is not below the current revision."""
    current = migrate.check_known(engine)
    target = migrate.resolve_revision(current, revision)
    known = migrate.known_revisions()
    if current is None or (target is not None and known.index(target) >= known.index(current)):
        raise ConfigurationError(
            f"{redact_url(engine.url)} is at {current or 'base (empty)'}; {revision} is not"
            " below it (use db upgrade to move up)"
        )
    providers, models = migrate.catalog_counts(engine)
    drops = migrate.downgrade_drops(current, target)
    return DowngradePlan(current, target, providers, models, drops)


def downgrade(engine: Engine, plan: DowngradePlan) -> SchemaStatus:
    """Carry out ``plan`` (from :func:`plan_downgrade`)."""
    migrate.downgrade(engine, plan.target or "base")
    return status(engine, previous=plan.current)


class SchemaOperations(CatalogStore):
    """The schema operations of :class:`~provider_store.ProviderStore` (see the README's
    library section); not a class to open on its own."""

    def schema_status(self) -> SchemaStatus:
        """The catalog's schema revision and the newest this release knows (open the store with
        ``auto_migrate=False`` to see an old one); NewerCatalogError for a revision this release
        does not know."""
        return status(self.engine)

    def upgrade_schema(self, revision: str = "head", *, force: bool = False) -> SchemaStatus:
        """Upgrade the schema to ``revision`` (``head``, a revision id or ``+N``); the status
        after, with the revision before as ``previous``. A database that holds other tables and
        no catalog is refused (ForeignDatabaseError) unless ``force``."""
        return upgrade(self.engine, revision, force=force)

    def plan_downgrade(self, revision: str) -> DowngradePlan:
        """What downgrading the schema to ``revision`` (a revision id, ``-N`` or ``base``) would
        remove, and what the catalog holds now; ConfigurationError when it is not below the
        current revision."""
        return plan_downgrade(self.engine, revision)

    def downgrade_schema(self, plan: DowngradePlan) -> SchemaStatus:
        """Carry out ``plan`` (from :meth:`plan_downgrade`): stored data the removed revisions
        added is dropped. The status after, with the revision before as ``previous``."""
        return downgrade(self.engine, plan)

    @staticmethod
    def schema_history() -> list[tuple[str, str | None, str]]:
        """Every schema revision this release knows, newest first: (revision, the revision
        below it, what it does)."""
        return migrate.history()
