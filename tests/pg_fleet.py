"""PostgreSQL set-ups for the fleet tests and bench_fleet.py: a connection-limited role, a
count of one client's connections, a database of its own, and a real PgBouncer in front.

- :func:`limited_role` creates a login role with ``CONNECTION LIMIT n`` (not a superuser: the
  limit does not bind those) and a schema it owns, first on the role's search path; it yields a
  URL that connects as that role.
- :func:`connections_of` counts the server connections whose ``application_name`` is a tag,
  so a test can watch one process (its URL sets the tag) by sampling.
- :class:`PgBouncer` runs ``/usr/sbin/pgbouncer`` as user ``postgres`` in transaction pooling
  mode on a free loopback port, in front of one database; :func:`pgbouncer_missing` says why
  it cannot run here (the tests that need it skip with that reason).
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, make_url, text

PGBOUNCER = os.environ.get("PROVIDER_STORE_TEST_PGBOUNCER", "/usr/sbin/pgbouncer")
PGBOUNCER_USER = "postgres"


@contextmanager
def limited_role(server_url: str, limit: int, *, app: str = "") -> Iterator[str]:
    """A role allowed ``limit`` connections at once, owning a fresh schema; yields its URL
    (``application_name`` = ``app`` when given). Both are dropped afterwards."""
    name = f"ps_limited_{uuid.uuid4().hex[:10]}"
    engine = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE ROLE "{name}" LOGIN CONNECTION LIMIT {int(limit)}'))
        conn.execute(text(f'CREATE SCHEMA "{name}" AUTHORIZATION "{name}"'))
        # Its own schema also without the URL's options (which PgBouncer does not pass on).
        conn.execute(text(f'ALTER ROLE "{name}" SET search_path = "{name}"'))
    query = {"options": f"-csearch_path={name}"}
    if app:
        query["application_name"] = app
    url = make_url(server_url).set(username=name, password=None).update_query_dict(query)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with engine.connect() as conn:
            terminate(conn, f"usename = '{name}'")
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
            conn.execute(text(f'DROP OWNED BY "{name}"'))
            conn.execute(text(f'DROP ROLE "{name}"'))
        engine.dispose()


def terminate(conn: Any, where: str, *, until_gone: bool = True) -> int:
    """End the server connections matching the ``pg_stat_activity`` condition ``where``; with
    ``until_gone``, again until none is left (a pool or a listener may reconnect meanwhile).
    How many were ended by the last round."""
    ended = 0
    for _ in range(50):
        ended = len(
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    f" WHERE pid <> pg_backend_pid() AND {where}"
                )
            ).all()
        )
        if not ended or not until_gone:
            return ended
        time.sleep(0.05)
    return ended


def connections_of(server_url: str, app: str) -> int:
    """How many server connections carry ``application_name`` = ``app`` now."""
    engine = create_engine(server_url)
    try:
        with engine.connect() as conn:
            return int(
                conn.execute(
                    text("SELECT count(*) FROM pg_stat_activity WHERE application_name = :app"),
                    {"app": app},
                ).scalar_one()
            )
    finally:
        engine.dispose()


class ConnectionSampler:
    """Samples :func:`connections_of` for several tags on one connection; keeps each maximum."""

    def __init__(self, server_url: str, apps: list[str]) -> None:
        self.engine = create_engine(server_url)
        self.apps = apps
        self.peak = dict.fromkeys(apps, 0)

    def sample(self) -> None:
        """Count once and update the maxima."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT application_name, count(*) FROM pg_stat_activity"
                    " WHERE application_name = ANY(:apps) GROUP BY application_name"
                ),
                {"apps": self.apps},
            ).all()
        for app, count in rows:
            self.peak[app] = max(self.peak[app], int(count))

    def close(self) -> None:
        """Release the sampling connection."""
        self.engine.dispose()


def pgbouncer_missing() -> str | None:
    """Why a PgBouncer cannot be started here, or None when it can."""
    if not Path(PGBOUNCER).is_file():
        return f"PgBouncer is not installed ({PGBOUNCER} is missing; apt-get install pgbouncer)"
    try:
        pwd.getpwnam(PGBOUNCER_USER)
    except KeyError:
        return f"PgBouncer must run as user {PGBOUNCER_USER}, who does not exist here"
    if os.geteuid() != 0 and pwd.getpwuid(os.geteuid()).pw_name != PGBOUNCER_USER:
        return f"PgBouncer runs as {PGBOUNCER_USER}: these tests need root or that user"
    return None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class PgBouncer:
    """A PgBouncer in transaction pooling mode in front of ``database_url``'s database, for
    its user (a role of :func:`limited_role`: PgBouncer does not pass on the URL's ``options``,
    the role's own search path selects its schema).

    ``url`` is the database URL through the pooler (same user, same database name). At most
    ``server_connections`` server connections are used for any number of clients.
    """

    def __init__(self, database_url: str, *, server_connections: int = 10) -> None:
        self.target = make_url(database_url)
        self.server_connections = server_connections
        self.port = _free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="ps-pgbouncer-"))
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The database URL through the pooler."""
        return (
            self.target.set(host="127.0.0.1", port=self.port)
            .difference_update_query(["options"])
            .render_as_string(hide_password=False)
        )

    def start(self) -> PgBouncer:
        """Write the configuration and start the pooler; returns once it accepts clients."""
        target = self.target
        database = target.database
        user = target.username or PGBOUNCER_USER
        (self.folder / "users.txt").write_text(f'"{user}" ""\n', encoding="utf-8")
        (self.folder / "pgbouncer.ini").write_text(
            "[databases]\n"
            f"{database} = host={target.host or '127.0.0.1'} port={target.port or 5432}"
            f" dbname={database}\n"
            "[pgbouncer]\n"
            "listen_addr = 127.0.0.1\n"
            f"listen_port = {self.port}\n"
            "unix_socket_dir =\n"
            "auth_type = trust\n"
            f"auth_file = {self.folder / 'users.txt'}\n"
            "pool_mode = transaction\n"
            "max_client_conn = 500\n"
            f"default_pool_size = {self.server_connections}\n"
            "ignore_startup_parameters = extra_float_digits,options\n"
            f"logfile = {self.folder / 'pgbouncer.log'}\n",
            encoding="utf-8",
        )
        owner = pwd.getpwnam(PGBOUNCER_USER)
        os.chmod(self.folder, 0o755)
        for path in (self.folder, *self.folder.iterdir()):
            os.chown(path, owner.pw_uid, owner.pw_gid)
        self.process = subprocess.Popen(
            [PGBOUNCER, str(self.folder / "pgbouncer.ini")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            user=owner.pw_uid if os.geteuid() == 0 else None,
            group=owner.pw_gid if os.geteuid() == 0 else None,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"pgbouncer exited: {self.log()[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"pgbouncer did not start: {self.log()[-2000:]}")

    def log(self) -> str:
        """What PgBouncer logged so far."""
        path = self.folder / "pgbouncer.log"
        return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""

    def stop(self) -> None:
        """Stop the pooler (its server connections close) and remove its folder."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> PgBouncer:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()
