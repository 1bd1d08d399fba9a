"""model facts: metadata from registries and from the user, each with its source

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 12:00:00

- model_fact: one metadata value of a model per origin (``user``, ``models.dev``, ``litellm``),
  with the exact source (registry and version, or file) and when it was observed. The provider's
  own listed values stay in the model columns; trust order is user > listed > registry.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STR = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "model_fact",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider_id", sa.Integer(), nullable=False),
        sa.Column("model_id", _STR(length=500), nullable=False),
        sa.Column("field", _STR(length=60), nullable=False),
        sa.Column("origin", _STR(length=40), nullable=False),
        sa.Column("source", _STR(length=500), nullable=False),
        sa.Column("value", sa.JSON(), nullable=True),
        sa.Column("observed_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["provider.id"],
            name=op.f("fk_model_fact_provider_id_provider"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_fact")),
        sa.UniqueConstraint(
            "provider_id",
            "model_id",
            "field",
            "origin",
            name=op.f("uq_model_fact_provider_id_model_id_field_origin"),
        ),
    )


def downgrade() -> None:
    op.drop_table("model_fact")
