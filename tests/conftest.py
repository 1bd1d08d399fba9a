"""Shared fixtures: every store-backed test runs on SQLite and, when configured, PostgreSQL.

Set ``PROVIDER_STORE_TEST_POSTGRES_URL`` (e.g. ``postgresql+psycopg://postgres@127.0.0.1:5432/test``)
to run the same tests against PostgreSQL; each test gets a schema of its own. When the variable
is set and the server cannot be reached, the tests fail rather than skip. A test marked
``above_the_store`` (what it checks is decided above the store) runs on SQLite only.

Databases: ``db_url`` is an empty database (a new SQLite file, a new PostgreSQL schema), for the
tests of migration and of opening a new catalog. A test that also uses ``store`` or
``catalog_url`` gets, at the same URL, a database already at the head revision: a copy of a
SQLite file migrated once per session, or a PostgreSQL schema migrated once and emptied between
tests (``helpers.PostgresSchemas``).

Providers: ``fake`` is a :class:`~provider_store.testing.FakeProvider` on loopback, serving models
``a`` and ``b`` unless the test or its module says otherwise with
``@pytest.mark.fake(models, behaviours={...}, **FakeProvider options)``; ``stored_provider`` saves
it in ``store`` as provider ``p`` with the key ``helpers.FAKE_KEY``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import FAKE_KEY, PostgresSchemas, copy_private, fresh_dir
from pg_schema import create_schema, drop_schema
from sqlalchemy import create_engine, text

from provider_store import ProviderConfig, ProviderStore
from provider_store.testing import FakeProvider

POSTGRES_ENV = "PROVIDER_STORE_TEST_POSTGRES_URL"
BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get(POSTGRES_ENV) else [])
# The fixtures whose params are BACKENDS: db_url here, and test_serve's one server per backend.
BACKEND_FIXTURES = ("db_url", "seeded")


def _psycopg_missing() -> bool:
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return True
    return False


@pytest.hookimpl(tryfirst=True)
def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A test marked ``above_the_store`` gets ``db_url`` (and ``store``), or test_serve's
    ``seeded`` server, on SQLite only.

    Such a test checks what is decided above the store: how a provider's dialect is read, what
    the CLI prints. The store calls it makes are the ones the store's own tests run on both
    backends, so a PostgreSQL copy would check nothing more (and cost twice: a schema, a
    server's connections).
    """
    if not metafunc.definition.get_closest_marker("above_the_store"):
        return
    for name in BACKEND_FIXTURES:
        if name in metafunc.fixturenames:
            metafunc.definition.add_marker(pytest.mark.parametrize(name, ["sqlite"], indirect=True))
            return


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip, with the reason, the tests that need psycopg when it is absent.

    With ``PROVIDER_STORE_TEST_POSTGRES_URL`` set they run (and fail without the driver).
    """
    if os.environ.get(POSTGRES_ENV) or not _psycopg_missing():
        return
    skip = pytest.mark.skip(
        reason="needs psycopg: pip install -e '.[postgres]' (or set " + POSTGRES_ENV + ")"
    )
    for item in items:
        if item.get_closest_marker("psycopg") is not None:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _isolated_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """No test may touch the user's real catalog, pick up a real key, or depend on the width
    of the terminal it runs in (a test that needs a width sets $COLUMNS)."""
    monkeypatch.delenv("PROVIDER_STORE_URL", raising=False)
    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.delenv("LINES", raising=False)
    home = fresh_dir(tmp_path_factory, "home")
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("HOME", str(home))


@pytest.fixture(scope="session")
def postgres_server_url() -> str:
    """The PostgreSQL server URL from the environment; fails when it is unreachable."""
    url = os.environ[POSTGRES_ENV]
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - turn any connection problem into a failure
        pytest.fail(f"{POSTGRES_ENV} is set but PostgreSQL is unreachable: {exc}")
    finally:
        engine.dispose()
    return url


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite catalog file migrated to head once per session; tests get copies of it."""
    path = tmp_path_factory.mktemp("template") / "catalog.db"
    ProviderStore(f"sqlite:///{path}").close()  # closing checkpoints the WAL into the file
    assert not Path(f"{path}-wal").exists()
    return path


@pytest.fixture(scope="session")
def postgres_schemas(postgres_server_url: str) -> Iterator[PostgresSchemas]:
    """The session's pool of migrated PostgreSQL schemas."""
    pool = PostgresSchemas(postgres_server_url)
    try:
        yield pool
    finally:
        pool.close()


@pytest.fixture(params=BACKENDS)
def db_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A URL to an empty database: a new SQLite file, or a new PostgreSQL schema.

    When the test also uses ``store`` or ``catalog_url`` the database is at the head revision
    already (see the module docstring), as ``store`` would have made it.
    """
    migrated = "store" in request.fixturenames or "catalog_url" in request.fixturenames
    if request.param == "sqlite":
        path = fresh_dir(tmp_path_factory, "db") / "catalog.db"
        if migrated:
            copy_private(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    if migrated:
        with request.getfixturevalue("postgres_schemas").lease() as url:
            yield url
        return
    server = request.getfixturevalue("postgres_server_url")
    url, schema = create_schema(server)
    try:
        yield url
    finally:
        drop_schema(server, schema)


@pytest.fixture
def catalog_url(db_url: str) -> str:
    """``db_url`` already at the head revision: an empty catalog, as the first command that
    makes one leaves it (for the tests that are not about making it; no store is opened)."""
    return db_url


@pytest.fixture
def store(db_url: str) -> Iterator[ProviderStore]:
    """A migrated, empty store on each backend."""
    opened = ProviderStore(db_url)
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def fake(request: pytest.FixtureRequest) -> Iterator[FakeProvider]:
    """A loopback OpenAI-compatible provider; ``@pytest.mark.fake(...)`` says what it serves."""
    marker = request.node.get_closest_marker("fake")
    args = marker.args if marker is not None else (["a", "b"],)
    options = dict(marker.kwargs) if marker is not None else {}
    behaviours: dict[str, str] = options.pop("behaviours", None) or {}
    with FakeProvider(*args, **options) as server:
        for model, behaviour in behaviours.items():
            server.set_model_behaviour(model, behaviour)
        yield server


@pytest.fixture
def stored_provider(store: ProviderStore, fake: FakeProvider) -> ProviderConfig:
    """Provider ``p`` in ``store``, pointing at ``fake`` with the key ``FAKE_KEY``."""
    store.save_config("p", ProviderConfig(name="P", base_api_url=fake.base_url, api_key=FAKE_KEY))
    return store.get_config("p")
