"""Helpers shared by the test modules (the fixtures built on them live in ``conftest.py``).

- :func:`run_cli` runs the ``provider-store`` command in-process and returns what a user sees.
- :func:`copy_private` copies a database file as the library creates one: readable by its owner
  only.
- :class:`PostgresSchemas` hands out migrated PostgreSQL schemas from a pool, emptied between
  tests, so that a test does not pay for a migration.
"""

from __future__ import annotations

import datetime
import io
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from pathlib import Path

import pytest
import zygote
from pg_schema import create_schema, drop_schema
from sqlalchemy import Connection, Engine, create_engine, text

from provider_store.catalog.db import PRIVATE_FILE_MODE
from provider_store.cli import main

# The key the shared fake provider requires and the shared stored provider sends.
FAKE_KEY = "sk-fake-0123456789"


def run_cli(capsys: pytest.CaptureFixture[str] | None, *args: str) -> tuple[int, str, str]:
    """Run the CLI in-process with ``args``; return (exit code, stdout, stderr).

    Output printed before the call is discarded, so the strings hold this command's output only.
    Without ``capsys`` (in a helper that has no fixtures) the output is captured here.
    """
    if capsys is None:
        out_buffer, err_buffer = io.StringIO(), io.StringIO()
        with redirect_stdout(out_buffer), redirect_stderr(err_buffer):
            code = _exit_code(args)
        return code, out_buffer.getvalue(), err_buffer.getvalue()
    capsys.readouterr()
    code = _exit_code(args)
    out, err = capsys.readouterr()
    return code, out, err


def _exit_code(args: tuple[str, ...]) -> int:
    with pytest.raises(SystemExit) as exited:
        main(list(args))
    code = exited.value.code
    if code is None:
        return 0
    return code if isinstance(code, int) else 1


def fresh_dir(tmp_path_factory: pytest.TempPathFactory, prefix: str) -> Path:
    """A new directory in the session's temporary directory, named ``prefix`` and a suffix.

    ``tmp_path_factory.mktemp`` numbers its directories by listing every one made so far, a
    cost that grows with each test; this one is constant.
    """
    return Path(tempfile.mkdtemp(prefix=f"{prefix}-", dir=tmp_path_factory.getbasetemp()))


def copy_private(source: Path, target: Path) -> None:
    """Copy the file ``source`` to the new file ``target`` with mode 0600 whatever the umask."""
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
    try:
        os.fchmod(fd, PRIVATE_FILE_MODE)
        with open(source, "rb") as src, os.fdopen(fd, "wb", closefd=False) as dst:
            shutil.copyfileobj(src, dst)
    finally:
        os.close(fd)


class PostgresSchemas:
    """Migrated schemas on one PostgreSQL server, reused across tests.

    :meth:`lease` yields the URL of a schema at the head revision with every table empty and
    every sequence restarted, as a newly migrated schema is. A schema comes back to the pool
    only when its definitions are the ones it was handed out with; one a test left otherwise
    (downgraded, altered, locked) is dropped. :meth:`close` drops them all.

    The definitions are compared by :func:`_fingerprint`: which catalog rows describe the
    schema and the transaction that last wrote each (``xmin``), so any DDL changes it. Reading
    every definition back as text instead (types, defaults, constraint sources) took 17 ms and
    25 ms of the server's CPU, after every PostgreSQL test; the fingerprint takes about one.

    Tables are emptied with DELETE, children first, not TRUNCATE: a TRUNCATE of the few tables
    takes 20-120 ms (new files for every table), a DELETE of a test's handful of rows well under
    one, and this runs after every PostgreSQL test.
    """

    def __init__(self, server_url: str, prefix: str = "ps_pool") -> None:
        self.server_url = server_url
        self.prefix = prefix
        self._free: list[tuple[str, str]] = []
        self._all: list[str] = []
        self._fingerprints: dict[str, str] = {}  # each schema's definitions when handed out
        self._tables: list[str] = []  # a schema's tables, each after every table it references
        self._sequences: list[str] = []  # and its sequences
        self._engine: Engine = create_engine(server_url, pool_size=1, max_overflow=0)

    @contextmanager
    def lease(self) -> Iterator[str]:
        """A migrated, empty schema's URL for the duration of the block."""
        url, schema = self._free.pop() if self._free else self._new()
        try:
            yield url
        finally:
            if self._reset(schema):
                self._free.append((url, schema))
            else:
                self._drop(schema)

    def close(self) -> None:
        """Drop every schema this pool made."""
        for schema in list(self._all):
            self._drop(schema)
        self._engine.dispose()

    def _new(self) -> tuple[str, str]:
        from provider_store import ProviderStore

        url, schema = create_schema(self.server_url, self.prefix)
        self._all.append(schema)
        ProviderStore(url).close()
        with self._engine.connect() as conn:
            if not self._tables:
                self._tables = _tables_parents_first(conn, schema)
                self._sequences = list(
                    conn.execute(
                        text("SELECT sequencename FROM pg_sequences WHERE schemaname = :s"),
                        {"s": schema},
                    ).scalars()
                )
            self._fingerprints[schema] = _fingerprint(conn, schema)
        return url, schema

    def _reset(self, schema: str) -> bool:
        """Empty the schema's tables; False when it is no longer a clean head schema."""
        try:
            with self._engine.begin() as conn:
                conn.execute(text("SET LOCAL lock_timeout = '5s'"))
                if _fingerprint(conn, schema) != self._fingerprints[schema]:
                    return False  # a table, column, trigger, function or revision was changed
                for table in reversed(self._tables):
                    if table != "alembic_version":
                        conn.execute(text(f'DELETE FROM "{schema}"."{table}"'))
                qualified = [f'"{schema}"."{sequence}"' for sequence in self._sequences]
                used = conn.execute(
                    text(
                        "SELECT name FROM unnest(CAST(:names AS text[])) AS name"
                        " WHERE pg_sequence_last_value(to_regclass(name)) IS NOT NULL"
                    ),
                    {"names": qualified},
                ).scalars()
                restarted = used.all()
                for sequence in restarted:
                    conn.execute(text(f"ALTER SEQUENCE {sequence} RESTART"))
                if restarted:  # a restart rewrites the sequence's catalog row
                    self._fingerprints[schema] = _fingerprint(conn, schema)
        except Exception:  # noqa: BLE001 - any doubt: do not reuse the schema
            return False
        return True

    def _drop(self, schema: str) -> None:
        drop_schema(self.server_url, schema)
        self._fingerprints.pop(schema, None)
        if schema in self._all:
            self._all.remove(schema)


# Everything in a schema that a test could change besides rows, as the catalog rows that
# describe it and the transaction that last wrote each: the objects in the schema (relations,
# functions, types: what depends on it in pg_depend), the tables' indexes, columns, defaults,
# constraints, triggers and rules. Creating, altering or dropping any of them adds, rewrites or
# removes a row; VACUUM and ANALYZE update their figures in place (same xmin); rows of a table
# change none of them. Each catalog is read through an index: a server that creates and drops
# many schemas (and does not vacuum) grows catalogs that take milliseconds to scan.
_FINGERPRINT_QUERY = """
WITH members AS MATERIALIZED (
    SELECT classid, objid FROM pg_depend
    WHERE refclassid = 'pg_namespace'::regclass
        AND refobjid = (SELECT oid FROM pg_namespace WHERE nspname = :s)
), tables AS MATERIALIZED (
    SELECT ARRAY(SELECT objid FROM members WHERE classid = 'pg_class'::regclass) AS oids
), relations AS MATERIALIZED (
    SELECT ARRAY(SELECT objid FROM members WHERE classid = 'pg_class'::regclass
        UNION ALL SELECT indexrelid FROM pg_index, tables WHERE indrelid = ANY(tables.oids))
        AS oids
)
SELECT md5(coalesce(string_agg(part, ',' ORDER BY part), '')) FROM (
    SELECT 'm' || classid || '.' || objid FROM members
    UNION ALL
    SELECT 'c' || c.oid || ':' || c.xmin FROM pg_class c, relations
        WHERE c.oid = ANY(relations.oids)
    UNION ALL
    SELECT 'a' || a.attrelid || '.' || a.attnum || ':' || a.xmin FROM pg_attribute a, tables
        WHERE a.attrelid = ANY(tables.oids) AND a.attnum > 0
    UNION ALL
    SELECT 'd' || d.oid || ':' || d.xmin FROM pg_attrdef d, tables
        WHERE d.adrelid = ANY(tables.oids)
    UNION ALL
    SELECT 'k' || k.oid || ':' || k.xmin FROM pg_constraint k, tables
        WHERE k.conrelid = ANY(tables.oids)
    UNION ALL
    SELECT 't' || t.oid || ':' || t.xmin FROM pg_trigger t, tables
        WHERE t.tgrelid = ANY(tables.oids)
    UNION ALL
    SELECT 'r' || r.oid || ':' || r.xmin FROM pg_rewrite r, tables
        WHERE r.ev_class = ANY(tables.oids)
    UNION ALL
    SELECT 'p' || p.oid || ':' || p.xmin FROM pg_proc p, members
        WHERE members.classid = 'pg_proc'::regclass AND p.oid = members.objid
) parts(part)
"""


_FOREIGN_KEYS_QUERY = """
SELECT child.relname, parent.relname FROM pg_constraint c
    JOIN pg_class child ON child.oid = c.conrelid
    JOIN pg_class parent ON parent.oid = c.confrelid
    JOIN pg_namespace n ON n.oid = c.connamespace
    WHERE n.nspname = :s AND c.contype = 'f'
"""


def _tables_parents_first(conn: Connection, schema: str) -> list[str]:
    """The schema's tables, each after the tables its foreign keys reference."""
    tables = conn.execute(
        text("SELECT tablename FROM pg_tables WHERE schemaname = :s ORDER BY tablename"),
        {"s": schema},
    ).scalars()
    parents: dict[str, set[str]] = {table: set() for table in tables}
    for child, parent in conn.execute(text(_FOREIGN_KEYS_QUERY), {"s": schema}).all():
        if child != parent:
            parents[child].add(parent)
    ordered: list[str] = []
    while parents:
        ready = sorted(table for table, needs in parents.items() if not needs - set(ordered))
        if not ready:  # a cycle: the rest in name order (DELETE would then need CASCADE)
            ready = sorted(parents)
        ordered.extend(ready)
        for table in ready:
            del parents[table]
    return ordered


def _fingerprint(conn: Connection, schema: str) -> str:
    """The schema's definitions (see :data:`_FINGERPRINT_QUERY`) and its revision, as one text."""
    digest = conn.execute(text(_FINGERPRINT_QUERY), {"s": schema}).scalar_one()
    table = f'"{schema}".alembic_version'
    revisions: list[str] = []
    if conn.execute(text("SELECT to_regclass(:t)"), {"t": table}).scalar() is not None:
        revisions = sorted(conn.execute(text(f"SELECT version_num FROM {table}")).scalars())
    return f"{digest} {revisions}"


# Prepended to the scripts of run_together (which may use sys and time): wait_for_start() is the
# barrier across processes.
_BARRIER = """\
import sys
import time


def wait_for_start():
    sys.stdout.write("ready\\n")
    sys.stdout.flush()
    time.sleep(max(0.0, float(sys.stdin.readline()) - time.time()))
"""


def run_together(script: str, argvs: list[list[str]], timeout: float = 60) -> list[tuple[int, str]]:
    """Run the Python ``script`` once per argument list, in as many processes; return each one's
    (exit code, stdout after the barrier) with stderr appended to the output of a failure.

    Each process calls ``wait_for_start()`` when it is ready to race (after its imports); all
    of them are released at one instant once every process is waiting.
    """
    procs = [
        zygote.Popen(
            [sys.executable, "-c", _BARRIER + script, *argv],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for argv in argvs
    ]
    try:
        for proc in procs:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            assert line == "ready\n", line + (proc.stderr.read() if proc.stderr else "")
        start_at = time.time() + 0.1
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write(f"{start_at}\n")
            proc.stdin.flush()
        results = []
        for proc in procs:
            out, err = proc.communicate(timeout=timeout)
            results.append((proc.returncode, out if proc.returncode == 0 else out + err))
        return results
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def after(seconds: float) -> datetime.datetime:
    """The moment ``seconds`` from now, for ``freeze_time``: a lease or a marker is past its
    time because the clock moved on, not because the test waited."""
    return datetime.datetime.fromtimestamp(time.time() + seconds, datetime.UTC)


def wait_until(check: Callable[[], bool], seconds: float, *, every: float = 0.02) -> bool:
    """Poll ``check`` every ``every`` seconds for up to ``seconds``; whether it came true."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if check():
            return True
        time.sleep(every)
    return check()
