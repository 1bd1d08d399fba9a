"""case-insensitive model indexes

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 21:05:00

Resolution and find match model ids and aliases case-insensitively; expression indexes on
lower(model_id) and lower(alias) let both databases answer without scanning the model table.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_model_model_id_lower", "model", [sa.text("lower(model_id)")])
    op.create_index("ix_model_alias_lower", "model", [sa.text("lower(alias)")])


def downgrade() -> None:
    op.drop_index("ix_model_alias_lower", table_name="model")
    op.drop_index("ix_model_model_id_lower", table_name="model")
