"""A PostgreSQL schema per test or benchmark run, addressed by a URL that sets its search_path.

The URL works in child processes too, so cross-process tests and scripts share one schema.
"""

from __future__ import annotations

import uuid

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
