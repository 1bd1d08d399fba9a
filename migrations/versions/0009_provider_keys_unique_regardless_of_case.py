"""provider keys unique regardless of case

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 08:00:00

- A unique index on lower(provider.key): ``groq``, ``Groq`` and ``GROQ`` cannot coexist (they
  would share ``$GROQ_API_KEY``). Provider keys are ASCII, so lower() is the same on SQLite
  and PostgreSQL.
- A catalog that already holds keys differing only in case still migrates: the first of them
  in catalog order keeps its key, each other one is renamed ``KEY-2`` (``-3`` ...: the first
  suffix free in any case) with its history (events, observations, ping rollup), and a warning
  names every rename, so the user can pick a better key with ``providers rename``. Nothing is
  removed; the stored key of a renamed provider stays, an environment key is then read from
  the new key's variable.
"""

import logging
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

logger = logging.getLogger("provider_store.catalog.migrate")

# Frozen here: the longest provider key as of this revision.
_MAX_KEY = 200
_HISTORY_TABLES = ("event", "observation", "ping_rollup")


def upgrade() -> None:
    conn = op.get_bind()
    rows = conn.execute(sa.text("SELECT id, key FROM provider ORDER BY position, id")).all()
    taken = {key.lower() for _id, key in rows}
    kept: dict[str, str] = {}
    for row_id, key in rows:
        first = kept.setdefault(key.lower(), key)
        if first == key:
            continue
        new = _free_key(key, taken)
        taken.add(new.lower())
        conn.execute(
            sa.text("UPDATE provider SET key = :new WHERE id = :id"), {"new": new, "id": row_id}
        )
        for table in _HISTORY_TABLES:
            conn.execute(
                sa.text(f"UPDATE {table} SET provider_key = :new WHERE provider_key = :old"),
                {"new": new, "old": key},
            )
        logger.warning(
            "providers %s and %s differed only in case, and provider keys are now unique"
            " regardless of case: %s is now %s (rename it with: provider-store providers rename"
            " %s NEW)",
            first,
            key,
            key,
            new,
            new,
        )
    op.create_index("ix_provider_key_lower", "provider", [sa.text("lower(key)")], unique=True)


def _free_key(key: str, taken: set[str]) -> str:
    number = 2
    while True:
        suffix = f"-{number}"
        candidate = key[: _MAX_KEY - len(suffix)] + suffix
        if candidate.lower() not in taken:
            return candidate
        number += 1


def downgrade() -> None:
    op.drop_index("ix_provider_key_lower", table_name="provider")
