"""Revision 0008 builds the ping rollup from the observations a catalog already holds."""

from __future__ import annotations

import random

from sqlalchemy import insert, inspect, select
from test_ping_rollup import (
    OBSERVATION,
    assert_same,
    counted,
    random_pings,
    rollup_rows,
    summed_observations,
)

from provider_store import ProviderStore
from provider_store.catalog.db import build_engine
from provider_store.catalog.migrate import SCHEMA_HEAD, current_revision, downgrade, upgrade


def test_upgrading_to_0008_backfills_the_rollup_and_downgrading_drops_it(db_url: str) -> None:
    engine = build_engine(db_url)
    try:
        upgrade(engine, "0007")
        pings = random_pings(random.Random(5), 3000)
        with engine.begin() as conn:
            conn.execute(insert(OBSERVATION), pings)
        upgrade(engine, "0008")
        expected = summed_observations(engine, pings)
        assert rollup_rows(engine) == expected

        downgrade(engine, "0007")
        assert "ping_rollup" not in inspect(engine).get_table_names()
        with engine.connect() as conn:
            assert conn.execute(select(OBSERVATION.c.id)).all()  # the observations stay
        upgrade(engine, "head")
        assert rollup_rows(engine) == expected
        assert current_revision(engine) == SCHEMA_HEAD
    finally:
        engine.dispose()
    store = ProviderStore(db_url)
    try:
        for since in (None, 1_799_971_200.0 + 4.3 * 86400):
            assert_same(store.model_stats(since=since), counted(store, since))
    finally:
        store.close()
