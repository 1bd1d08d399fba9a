"""history: change events, ping observations, removal confirmation

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 11:50:00

- event: append-only change facts (added, missing, removed, reappeared, changed, verdict) per
  provider and model, with the refresh they came from; indexed for newest-first reads.
- observation: one row per validation ping (outcome class, HTTP status, latency in ms).
- model.missing_count / missing_since / removed_at: absence from complete listings.
- provider.removal_confirmations / removal_min_age_seconds: when a missing model is removed.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STR = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    # Plain ADD COLUMN (as 0003): a batch copy of the model table would drop its lower(...)
    # expression indexes on SQLite.
    for table, column in _new_columns():
        op.add_column(table, column)
    op.create_table(
        "event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider_key", _STR(length=200), nullable=False),
        sa.Column("model_id", _STR(length=500), nullable=False),
        sa.Column("type", _STR(length=20), nullable=False),
        sa.Column("field", _STR(length=60), nullable=True),
        sa.Column("old_value", sa.JSON(), nullable=True),
        sa.Column("new_value", sa.JSON(), nullable=True),
        sa.Column("reason", _STR(length=2000), nullable=True),
        sa.Column("observed_at", sa.Float(), nullable=False),
        sa.Column("refresh_id", _STR(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event")),
    )
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.create_index("ix_event_observed_at_id", ["observed_at", "id"], unique=False)
        batch_op.create_index(
            "ix_event_provider_key_model_id_observed_at",
            ["provider_key", "model_id", "observed_at"],
            unique=False,
        )
    op.create_table(
        "observation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider_key", _STR(length=200), nullable=False),
        sa.Column("model_id", _STR(length=500), nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
        sa.Column("outcome", _STR(length=30), nullable=False),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("latency_ms", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_observation")),
    )
    with op.batch_alter_table("observation", schema=None) as batch_op:
        batch_op.create_index("ix_observation_at", ["at"], unique=False)
        batch_op.create_index(
            "ix_observation_provider_key_model_id_at",
            ["provider_key", "model_id", "at"],
            unique=False,
        )


def _new_columns() -> list[tuple[str, sa.Column[object]]]:
    return [
        (
            "provider",
            sa.Column("removal_confirmations", sa.Integer(), nullable=False, server_default="2"),
        ),
        (
            "provider",
            sa.Column("removal_min_age_seconds", sa.Float(), nullable=False, server_default="3600"),
        ),
        ("model", sa.Column("missing_count", sa.Integer(), nullable=False, server_default="0")),
        ("model", sa.Column("missing_since", sa.Float(), nullable=True)),
        ("model", sa.Column("removed_at", sa.Float(), nullable=True)),
    ]


def downgrade() -> None:
    op.drop_table("observation")
    op.drop_table("event")
    for table, column in reversed(_new_columns()):
        op.drop_column(table, column.name)
