"""hand-marked verdicts: a model marked valid or invalid by the user keeps that mark

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 12:10:00

- model.hand_mark: ``valid`` or ``invalid`` when the user marked the model by hand
  (``models mark``); discovery and validation never override it until ``models unmark``.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STR = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    # Plain ADD COLUMN (as 0003): a batch copy of the model table on SQLite would drop its
    # lower(...) expression indexes.
    op.add_column("model", sa.Column("hand_mark", _STR(length=20), nullable=True))


def downgrade() -> None:
    # DROP COLUMN (SQLite 3.35+ and PostgreSQL) keeps the model table and its indexes in place.
    op.drop_column("model", "hand_mark")
