"""provider change counts: a running manager re-reads only the providers another process changed

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 14:30:00

- provider.change_count: grows by one with each committed write transaction that changed the
  provider (its row or its models); the catalog-wide change marker says *that* something
  changed, this column says *which* provider did.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN (as 0003 and 0006): no batch copy of the table.
    op.add_column(
        "provider",
        sa.Column("change_count", sa.Integer(), server_default="0", nullable=False),
    )


def downgrade() -> None:
    op.drop_column("provider", "change_count")
