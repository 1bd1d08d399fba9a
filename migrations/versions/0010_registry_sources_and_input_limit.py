"""registry sources, what each registry filled per provider, and the input limit of a model

Revision ID: 0010
Revises: 0008
Create Date: 2026-12-06 09:00:00

- model.max_input_tokens: the longest input a model reads, when a source gives it apart from
  the context window (GPT-5: context 400,000, input 272,000).
- registry_source: per registry origin, the source last read (its name, version, content hash,
  location without credentials) and its reader's notes (duplicate or conflicting entries,
  refused values).
- registry_fill: per provider and registry origin, the fingerprint of the registry content and
  listing last attributed, when the facts were written and last confirmed, and the counts.
- model_fact.source: a LiteLLM source named by a URL loses the URL's user info, query and
  fragment (where credentials could hide); the next registry update names it by version.
"""

from collections.abc import Sequence
from urllib.parse import urlsplit

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STR = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    # Plain ADD COLUMN (as 0003): a batch copy of the model table on SQLite would drop its
    # lower(...) expression indexes.
    op.add_column("model", sa.Column("max_input_tokens", sa.Integer(), nullable=True))
    op.create_table(
        "registry_source",
        sa.Column("origin", _STR(length=40), nullable=False),
        sa.Column("source", _STR(length=500), nullable=False),
        sa.Column("version", _STR(length=200), nullable=True),
        sa.Column("content_hash", _STR(length=64), nullable=False),
        sa.Column("location", _STR(length=2000), nullable=False),
        sa.Column("read_at", sa.Float(), nullable=False),
        sa.Column("notes", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("origin", name=op.f("pk_registry_source")),
    )
    op.create_table(
        "registry_fill",
        sa.Column("provider_id", sa.Integer(), nullable=False),
        sa.Column("origin", _STR(length=40), nullable=False),
        sa.Column("source", _STR(length=500), nullable=False),
        sa.Column("fingerprint", _STR(length=64), nullable=False),
        sa.Column("filled_at", sa.Float(), nullable=False),
        sa.Column("checked_at", sa.Float(), nullable=False),
        sa.Column("matched", sa.Integer(), nullable=False),
        sa.Column("known_empty", sa.Integer(), nullable=False),
        sa.Column("ambiguous", sa.Integer(), nullable=False),
        sa.Column("unmatched", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["provider.id"],
            name=op.f("fk_registry_fill_provider_id_provider"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("provider_id", "origin", name=op.f("pk_registry_fill")),
    )
    _scrub_sources()


def _scrub_sources() -> None:
    """Drop credentials from LiteLLM sources named ``litellm <URL>`` by earlier revisions."""
    fact = sa.table("model_fact", sa.column("source", sa.String))
    bind = op.get_bind()
    named = bind.execute(
        sa.select(fact.c.source).distinct().where(fact.c.source.like("litellm http%"))
    ).scalars()
    for source in list(named):
        url = source.removeprefix("litellm ")
        try:
            parts = urlsplit(url)
            host = parts.hostname or ""
            if parts.port is not None:
                host = f"{host}:{parts.port}"
        except ValueError:
            host, parts = "", urlsplit("")
        safe = f"litellm {parts.scheme}://{host}{parts.path}" if host else "litellm <URL>"
        if safe != source:
            bind.execute(fact.update().where(fact.c.source == source).values(source=safe))


def downgrade() -> None:
    op.drop_table("registry_fill")
    op.drop_table("registry_source")
    # DROP COLUMN (SQLite 3.35+ and PostgreSQL) keeps the model table and its indexes in place.
    op.drop_column("model", "max_input_tokens")
