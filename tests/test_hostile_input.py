"""Hostile and careless input: a key echoed by a provider, numbers out of range, bogus URLs,
the test server's bad arguments. Each answer is one line, the right exit code, no traceback."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest


def _testing_server(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "provider_store.testing", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def _one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


# -- item 16: python -m provider_store.testing --------------------------------------------------


def test_testing_server_on_a_port_in_use_says_so_in_one_line() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = _testing_server("--port", str(port))
    assert result.returncode == 2
    line = _one_line_error(result)
    assert f"127.0.0.1:{port}" in line and "in use" in line and "--port 0" in line


@pytest.mark.parametrize("port", ["70000", "-1"])
def test_testing_server_refuses_a_port_out_of_range(port: str) -> None:
    result = _testing_server("--port", port)
    assert result.returncode == 2
    line = _one_line_error(result)
    assert "out of range" in line and "--port 0" in line


@pytest.mark.parametrize("host", ["203.0.113.7", "no-such-host.invalid"])
def test_testing_server_on_a_host_it_cannot_bind_says_so_in_one_line(host: str) -> None:
    result = _testing_server("--host", host)
    assert result.returncode == 2
    line = _one_line_error(result)
    assert f"cannot listen on {host}:0" in line


def test_testing_server_lists_the_valid_behaviours_for_an_unknown_one() -> None:
    result = _testing_server("--behaviour", "m=bogus")
    assert result.returncode == 2
    line = _one_line_error(result)
    assert "'bogus'" in line
    for name in ("pong", "refuse", "silent", "error:<status>", "timeout", "reasoning"):
        assert name in line
