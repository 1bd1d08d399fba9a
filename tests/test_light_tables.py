"""The light Core clauses the start-up path reads through name the catalog's real columns."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import TypeDecorator
from sqlmodel import SQLModel

import provider_store.catalog.tables  # noqa: F401 - declares the tables on SQLModel.metadata
from provider_store.catalog.light_tables import (
    CATALOG_META,
    MODEL,
    MODEL_FACT,
    PROVIDER,
    REGISTRY_FILL,
)


def python_type(type_: Any) -> type:
    """What a column's values are (SQLModel's AutoString is a decorated String)."""
    base = type_.impl_instance if isinstance(type_, TypeDecorator) else type_
    return base.python_type  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    "light", [PROVIDER, MODEL, CATALOG_META, MODEL_FACT, REGISTRY_FILL], ids=lambda t: t.name
)
def test_each_light_clause_has_every_column_of_its_table_with_its_type(light: Any) -> None:
    full = SQLModel.metadata.tables[light.name]
    assert {c.name: python_type(c.type) for c in light.c} == {
        c.name: python_type(c.type) for c in full.c
    }
