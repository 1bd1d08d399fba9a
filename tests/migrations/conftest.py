"""pytest-alembic wiring: our scripts, on each backend of the shared ``db_url`` fixture."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alembic.config import Config
from sqlalchemy import Engine

from provider_store.catalog.db import build_engine
from provider_store.catalog.migrate import alembic_config as make_alembic_config


@pytest.fixture
def alembic_config() -> Config:
    return make_alembic_config()


@pytest.fixture
def alembic_engine(db_url: str) -> Iterator[Engine]:
    engine = build_engine(db_url)
    try:
        yield engine
    finally:
        engine.dispose()
