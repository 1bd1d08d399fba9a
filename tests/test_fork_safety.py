"""A store used across fork() (gunicorn-style workers) gives the child its own connections."""

from __future__ import annotations

import os

import pytest

from provider_store import ProviderConfig, ProviderStore


def _connection_identity(store: ProviderStore) -> str:
    with store.read() as session:
        connection = session.connection()
        if store.engine.dialect.name == "postgresql":
            return str(connection.exec_driver_sql("SELECT pg_backend_pid()").scalar())
        return str(id(connection.connection.driver_connection))


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork() is POSIX-only")
def test_forked_child_does_not_reuse_the_parent_connection(store: ProviderStore) -> None:
    store.save_config("p", ProviderConfig(valid_models={"a": "a"}))
    parent_identity = _connection_identity(store)
    read_fd, write_fd = os.pipe()

    pid = os.fork()
    if pid == 0:  # child: report its connection identity and whether it can read and write
        os.close(read_fd)
        status = 1
        try:
            identity = _connection_identity(store)
            store.save_config("child", ProviderConfig())
            ok = store.get_config("p").valid_models == {"a": "a"}
            os.write(write_fd, f"{identity}|{ok}".encode())
            status = 0
        finally:
            os._exit(status)
    os.close(write_fd)
    with os.fdopen(read_fd) as pipe:
        child_report = pipe.read()
    _, status = os.waitpid(pid, 0)

    assert os.waitstatus_to_exitcode(status) == 0
    child_identity, child_ok = child_report.split("|")
    assert child_ok == "True"
    if store.engine.dialect.name == "postgresql":
        assert child_identity != parent_identity
    # The parent's own connection still works after the child has gone.
    assert sorted(store.provider_keys()) == ["child", "p"]
    assert _connection_identity(store)
