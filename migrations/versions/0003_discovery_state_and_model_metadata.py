"""discovery state, provider kinds and model metadata

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 02:40:00

- provider.empty_list_strikes: the "second empty list" rule as a counted column.
- provider.kind / provider.options: the API dialect and its connection options (Azure's api-key
  header and api-version query, for example), so a new provider needs no code.
- provider.problem / problem_at: a provider-wide problem seen while validating (bad key, no credit).
- model.ping_style: the chat request style that worked, tried first next time.
- model metadata read from the provider's list: display name, created, context length, output
  limit, prices (USD per million tokens), modalities and capabilities.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STR = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    # Plain ADD COLUMN on both databases: a batch (copy-and-move) of the model table on SQLite
    # would drop its lower(...) expression indexes, which SQLite cannot reflect.
    for table, column in _new_columns():
        op.add_column(table, column)


def _new_columns() -> list[tuple[str, sa.Column[object]]]:
    return [
        (
            "provider",
            sa.Column("empty_list_strikes", sa.Integer(), nullable=False, server_default="0"),
        ),
        (
            "provider",
            sa.Column("kind", _STR(length=40), nullable=False, server_default="openai"),
        ),
        ("provider", sa.Column("options", sa.JSON(), nullable=True)),
        ("provider", sa.Column("problem", _STR(length=2000), nullable=True)),
        ("provider", sa.Column("problem_at", sa.Float(), nullable=True)),
        ("model", sa.Column("ping_style", _STR(length=40), nullable=True)),
        ("model", sa.Column("display_name", _STR(length=500), nullable=True)),
        ("model", sa.Column("created", sa.Float(), nullable=True)),
        ("model", sa.Column("context_length", sa.Integer(), nullable=True)),
        ("model", sa.Column("max_output_tokens", sa.Integer(), nullable=True)),
        ("model", sa.Column("input_price", sa.Float(), nullable=True)),
        ("model", sa.Column("output_price", sa.Float(), nullable=True)),
        ("model", sa.Column("input_modalities", sa.JSON(), nullable=True)),
        ("model", sa.Column("output_modalities", sa.JSON(), nullable=True)),
        ("model", sa.Column("capabilities", sa.JSON(), nullable=True)),
    ]


def downgrade() -> None:
    # DROP COLUMN (SQLite 3.35+ and PostgreSQL) keeps the model table and its indexes in place.
    for table, column in reversed(_new_columns()):
        op.drop_column(table, column.name)
