"""A PostgreSQL schema per test or benchmark run, addressed by a URL that sets its search_path.

The URL works in child processes too, so cross-process tests and scripts share one schema.
"""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, make_url, text


def create_schema(server_url: str, prefix: str = "ps_test") -> tuple[str, str]:
    """Create a fresh schema; return (a URL whose search_path is that schema, its name)."""
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    engine = create_engine(server_url)
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()
    url = make_url(server_url).update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False), schema


def drop_schema(server_url: str, schema: str) -> None:
    """Drop ``schema`` and everything in it."""
    engine = create_engine(server_url)
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    engine.dispose()


@contextmanager
def _sqlite_url() -> Iterator[str]:
    with tempfile.TemporaryDirectory() as tmp:
        yield f"sqlite:///{Path(tmp) / 'catalog.db'}"


@contextmanager
def _postgres_url(server_url: str, prefix: str) -> Iterator[str]:
    url, schema = create_schema(server_url, prefix)
    try:
        yield url
    finally:
        drop_schema(server_url, schema)


def each_backend(postgres_server_url: str, prefix: str) -> Iterator[tuple[str, str]]:
    """(name, URL of an empty database) for SQLite, then PostgreSQL when a server URL is given.

    Each database lives until the caller moves on to the next one: a temporary SQLite file, a
    fresh PostgreSQL schema that is dropped afterwards.
    """
    with _sqlite_url() as url:
        yield "sqlite", url
    if postgres_server_url:
        with _postgres_url(postgres_server_url, prefix) as url:
            yield "postgresql", url
