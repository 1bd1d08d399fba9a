"""ping rollup: observations summed per provider, model, quarter day and UTC day

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 14:30:00

- ping_rollup: per (provider_key, model_id, span, start) the pings, answered pings, smallest and
  largest latency, the newest ping and a 137-bucket log-scale latency histogram (lat_000 ..
  lat_136); span is 21600 (a quarter of a UTC day) or 86400 (a UTC day), start a multiple
  of it.
- Backfilled from the existing observations, in this revision's transaction.
"""

import math
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STR = sqlmodel.sql.sqltypes.AutoString
# Frozen here: the rule of provider_store.history.ping_rollup as of this revision.
_BUCKETS = 137
_PER_DOUBLING = 8
_LATENCY = [f"lat_{i:03d}" for i in range(_BUCKETS)]
_SPANS = (21600, 86400)
_CHUNK = 20000


def upgrade() -> None:
    table = op.create_table(
        "ping_rollup",
        sa.Column("provider_key", _STR(length=200), nullable=False),
        sa.Column("model_id", _STR(length=500), nullable=False),
        sa.Column("span", sa.Integer(), nullable=False),
        sa.Column("start", sa.BigInteger(), nullable=False),
        sa.Column("pings", sa.Integer(), nullable=False),
        sa.Column("answered", sa.Integer(), nullable=False),
        sa.Column("latency_min", sa.Float(), nullable=True),
        sa.Column("latency_max", sa.Float(), nullable=True),
        sa.Column("last_at", sa.Float(), nullable=False),
        sa.Column("last_outcome", _STR(length=30), nullable=False),
        sa.Column("last_latency_ms", sa.Float(), nullable=True),
        *(sa.Column(name, sa.Integer(), nullable=False, server_default="0") for name in _LATENCY),
        sa.PrimaryKeyConstraint(
            "provider_key", "model_id", "span", "start", name=op.f("pk_ping_rollup")
        ),
    )
    with op.batch_alter_table("ping_rollup", schema=None) as batch_op:
        batch_op.create_index("ix_ping_rollup_span_start", ["span", "start"], unique=False)
    assert table is not None
    _backfill(table)


def _bucket(latency: float) -> int:
    if not latency >= 1.0:
        return 0
    if math.isinf(latency):
        return _BUCKETS - 1
    return min(1 + math.floor(_PER_DOUBLING * math.log2(latency)), _BUCKETS - 1)


def _backfill(table: sa.Table) -> None:
    """Sum every observation into its quarter-day and day rows (read in id order, in chunks)."""
    conn = op.get_bind()
    observation = sa.table(
        "observation",
        sa.column("id", sa.Integer()),
        sa.column("provider_key", _STR()),
        sa.column("model_id", _STR()),
        sa.column("at", sa.Float()),
        sa.column("outcome", _STR()),
        sa.column("latency_ms", sa.Float()),
    )
    o = observation.c
    rows: dict[tuple[str, str, int, int], dict[str, Any]] = {}
    last_id = None
    while True:
        query = sa.select(o.id, o.provider_key, o.model_id, o.at, o.outcome, o.latency_ms)
        if last_id is not None:
            query = query.where(o.id > last_id)
        chunk = conn.execute(query.order_by(o.id).limit(_CHUNK)).all()
        if not chunk:
            break
        last_id = chunk[-1][0]
        for _id, key, model, at, outcome, latency in chunk:
            for span in _SPANS:
                _add(rows, (key, model, span, int(at // span) * span), at, outcome, latency)
    params = [
        {"provider_key": k, "model_id": m, "span": s, "start": t, **row}
        for (k, m, s, t), row in rows.items()
    ]
    for first in range(0, len(params), 2000):
        conn.execute(sa.insert(table), params[first : first + 2000])


def _add(
    rows: dict[tuple[str, str, int, int], dict[str, Any]],
    key: tuple[str, str, int, int],
    at: float,
    outcome: str,
    latency: float | None,
) -> None:
    row = rows.get(key)
    if row is None:
        row = rows[key] = {
            "pings": 0,
            "answered": 0,
            "latency_min": None,
            "latency_max": None,
            "last_at": at,
            "last_outcome": outcome,
            "last_latency_ms": latency,
            **dict.fromkeys(_LATENCY, 0),
        }
    row["pings"] += 1
    row["answered"] += outcome == "answered"
    if latency is not None:
        row[_LATENCY[_bucket(latency)]] += 1
        if row["latency_min"] is None or latency < row["latency_min"]:
            row["latency_min"] = latency
        if row["latency_max"] is None or latency > row["latency_max"]:
            row["latency_max"] = latency
    if at >= row["last_at"]:
        row["last_at"], row["last_outcome"], row["last_latency_ms"] = at, outcome, latency


def downgrade() -> None:
    op.drop_table("ping_rollup")
