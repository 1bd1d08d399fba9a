"""A new process imports only what its command uses.

The timings are in tests/benchmarks/bench_cold_start.py; here, which modules get imported.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import provider_store
from provider_store import ProviderConfig, ProviderStore

# provider_store.catalog.tables: building the SQLModel table classes costs tens of milliseconds;
# the start-up path reads through the light Core clauses instead.
WATCHED = (
    "requests",
    "yaml",
    "rich",
    "sqlalchemy",
    "sqlalchemy.dialects.postgresql",
    "alembic",
    "provider_store.catalog.tables",
)

RUN_CLI = f"""
import json, sys
from provider_store.cli import main
code = 0
try:
    main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
print(json.dumps({{"code": code, "loaded": [m for m in {WATCHED!r} if m in sys.modules]}}))
"""


def loaded_by_cli(*args: str) -> list[str]:
    """The watched modules a new process has imported after running ``provider-store ARGS``."""
    result = subprocess.run(
        [sys.executable, "-c", RUN_CLI, *args], capture_output=True, text=True, timeout=120
    )
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["code"] == 0, result.stderr
    return list(report["loaded"])


@pytest.mark.slow
def test_help_imports_no_heavy_dependency() -> None:
    assert loaded_by_cli("--help") == []


@pytest.mark.slow
def test_bare_command_and_group_help_import_no_heavy_dependency() -> None:
    assert loaded_by_cli() == []
    assert loaded_by_cli("models", "--help") == []


@pytest.mark.slow
def test_models_list_imports_neither_http_nor_yaml_nor_rich_nor_the_table_classes(
    tmp_path: Path,
) -> None:
    db_url = f"sqlite:///{tmp_path / 'catalog.db'}"
    ProviderStore(db_url).save_config("p", ProviderConfig(valid_models={"m": "a"}))
    loaded = loaded_by_cli("--db", db_url, "models", "list")
    assert loaded == ["sqlalchemy"]


@pytest.mark.slow
def test_library_resolution_imports_neither_http_nor_yaml_nor_the_table_classes(
    tmp_path: Path,
) -> None:
    db_url = f"sqlite:///{tmp_path / 'catalog.db'}"
    ProviderStore(db_url).save_config("p", ProviderConfig(valid_models={"long-id": "m"}))
    code = (
        "import sys\n"
        "from provider_store import ProviderManager, ProviderStore\n"
        f"manager = ProviderManager(store=ProviderStore({db_url!r}))\n"
        "print(manager.get_api_for_model_string('p/m')[1])\n"
        f"print([m for m in {WATCHED!r} if m in sys.modules])\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    answer, loaded = result.stdout.strip().splitlines()
    assert answer == "long-id"
    assert loaded == "['sqlalchemy']"


def test_every_public_name_is_importable_lazily() -> None:
    names = set(provider_store.__all__) - {"__version__"}
    assert set(provider_store._LAZY_NAMES) == names
    assert set(dir(provider_store)) >= names
    with pytest.raises(AttributeError):
        provider_store.no_such_name  # noqa: B018
