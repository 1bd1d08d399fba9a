"""provider change tokens: a running manager re-reads only the providers another process changed

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 14:30:00

- provider.change_token: a new random token with each committed write transaction that changed
  the provider (its row or its models); the catalog-wide change marker says *that* something
  changed, this column says *which* provider did. A token, not a counter: a provider removed and
  added again under the same key gets a token its old row never had.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN (as 0003 and 0006): no batch copy of the table.
    op.add_column(
        "provider",
        sa.Column("change_token", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    )


def downgrade() -> None:
    op.drop_column("provider", "change_token")
