"""What the commands report: every write in ``--json`` too, ``providers show``, empty results
on stderr, availability one way, no catalog made by a read, and Ctrl-C at a prompt."""

from __future__ import annotations

import io
import json
import os
import pty
import select
import signal
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import zygote
from helpers import run_cli as run

from provider_store import ProviderConfig, ProviderStore
from provider_store.catalog.migrate import head_revision, known_revisions
from provider_store.testing import FakeProvider

KEY = "sk-proj-report-secret-4321abcd"


def one_line(err: str) -> bool:
    return err.strip() != "" and err.strip().count("\n") == 0 and "Traceback" not in err


def feed_stdin(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(text.encode())))


@pytest.fixture(autouse=True)
def no_key_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("P_API_KEY", "Q_API_KEY"):
        monkeypatch.delenv(name, raising=False)


def run_json(capsys: pytest.CaptureFixture[str], *args: str) -> Any:
    code, out, err = run(capsys, *args, "--json")
    assert code == 0, err
    return json.loads(out)


# -- every write reports in --json ---------------------------------------------------------------


def test_every_write_reports_in_json(
    store: ProviderStore,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    db = ["--db", store.url]
    store.save_config("p", ProviderConfig(valid_models={"m": "m"}, invalid_models=["x"]))
    feed_stdin(monkeypatch, KEY + "\n")
    data = run_json(capsys, *db, "keys", "set", "p")
    assert data == {"provider": "p", "source": "stored", "variable": None, "key": "sk-…abcd"}
    assert run_json(capsys, *db, "keys", "unset", "p") == {
        "provider": "p",
        "source": "missing",
        "variable": "P_API_KEY",
        "key": None,
    }
    assert run_json(capsys, *db, "models", "alias", "p/m", "short") == {
        "provider": "p",
        "model": "m",
        "alias": "short",
        "moved_from": [],
    }
    assert run_json(capsys, *db, "models", "unalias", "p/m")["alias"] is None
    data = run_json(capsys, *db, "models", "mark", "p/x", "valid", "--reason", "works")
    assert data == {"provider": "p", "model": "x", "hand_mark": "valid", "reason": "works"}
    assert run_json(capsys, *db, "models", "unmark", "p/x")["hand_mark"] is None
    run_json(capsys, *db, "models", "set", "p/m", "--context", "8192")
    data = run_json(capsys, *db, "models", "unset", "p/m", "context_length")
    assert data == {"provider": "p", "model": "m", "unset": ["context_length"]}
    assert store.model_metadata("p", "m").values == {}
    data = run_json(capsys, *db, "providers", "rename", "p", "q")
    assert data["key"] == "q" and data["api_key_env"] == "Q_API_KEY"
    target = tmp_path / "out.yaml"
    data = run_json(capsys, *db, "export", str(target))
    assert data["providers"] == 1 and data["bytes"] == target.stat().st_size
    code, _, err = run(capsys, *db, "export", "-", "--json")
    assert code == 2 and one_line(err)
    data = run_json(capsys, *db, "db", "downgrade", known_revisions()[-2], "--yes")
    assert data["previous"] == head_revision() != data["current"]
    data = run_json(capsys, *db, "db", "upgrade")
    assert data["current"] == data["head"] == head_revision()


def test_text_reports_of_writes_go_to_stdout(
    store: ProviderStore, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    store.add_provider("p", "http://127.0.0.1:9/v1")
    feed_stdin(monkeypatch, KEY + "\n")
    code, out, err = run(capsys, "--db", store.url, "keys", "set", "p")
    assert code == 0 and out == "p: API key stored (sk-…abcd).\n" and err == ""
    assert KEY not in out
    code, out, err = run(capsys, "--db", store.url, "providers", "rename", "p", "q")
    assert code == 0 and out == "Renamed provider p to q.\n"


@pytest.mark.fake(["a", "b"])
def test_refresh_reports_each_refresh_as_a_json_line(
    store: ProviderStore, fake: FakeProvider, capsys: pytest.CaptureFixture[str]
) -> None:
    store.add_provider("p", fake.base_url, keyless=True)
    code, out, err = run(capsys, "--db", store.url, "refresh", "--once", "--no-validate", "--json")
    assert code == 0, err
    [line] = out.splitlines()
    data = json.loads(line)
    assert (data["provider"], data["ok"], data["discovered"]) == ("p", True, 2)
    assert data["at"].endswith("Z")


# -- providers show, providers list --json ------------------------------------------------------


def test_providers_show_and_list_carry_every_setting(
    store: ProviderStore, capsys: pytest.CaptureFixture[str]
) -> None:
    store.add_provider(
        "p",
        "http://127.0.0.1:9/v1",
        kind="openai",
        options={"auth_header": "api-key"},
        cache_ttl=600,
    )
    store.set_api_key("p", KEY)
    store.rows.set_removal_policy("p", confirmations=3, min_age_seconds=7200)
    store.save_config("p", store.get_config("p").model_copy(update={"valid_models": {"m": "m"}}))
    store.rows.record_discovery_error("p", "HTTP 500 from upstream", status=500, at=1.0e9)
    shown = run_json(capsys, "--db", store.url, "providers", "show", "p")
    listed = run_json(capsys, "--db", store.url, "providers", "list")
    assert listed == [shown]
    assert shown == {
        "key": "p",
        "name": "p",
        "base_api_url": "http://127.0.0.1:9/v1",
        "kind": "openai",
        "options": {"auth_header": "api-key"},
        "keyless": False,
        "api_key": "stored",
        "api_key_env": None,
        "cache_ttl_seconds": 600,
        "removal_confirmations": 3,
        "removal_min_age_seconds": 7200.0,
        "valid_models": 1,
        "invalid_models": 0,
        "discovered": 0,
        "unverified": 0,
        "fetched_at": None,
        "last_error": "HTTP 500 from upstream",
        "last_error_status": 500,
        "last_error_at": "2001-09-09T01:46:40Z",
        "problem": None,
        "problem_at": None,
    }
    code, out, _ = run(capsys, "--db", store.url, "providers", "show", "p")
    assert code == 0 and KEY not in out
    for words in ("kind        openai", "auth_header=api-key", "cache TTL   10m", "3 complete"):
        assert words in out
    assert "2h" in out and "HTTP 500 from upstream" in out and "1 valid, 0 invalid" in out


# -- empty results say so on stderr; availability one way ---------------------------------------


def test_an_empty_filter_says_so_on_stderr(
    store: ProviderStore, capsys: pytest.CaptureFixture[str]
) -> None:
    store.save_config("p", ProviderConfig(valid_models={"m": "m"}))
    for args, words in (
        (["models", "list", "--capability", "vision"], "No models match"),
        (["changes", "--provider", "p"], "No changes"),
        (["models", "stats", "p"], "No pings"),
        (["registries", "check", "p"], "No disagreements"),
    ):
        code, out, err = run(capsys, "--db", store.url, *args)
        assert (code, out) == (0, "") and words in err, args
        code, out, err = run(capsys, "--db", store.url, *args, "--json")
        empty = {"sources": [], "disagreements": []} if args[0] == "registries" else []
        assert (code, json.loads(out)) == (0, empty) and words in err, args


@pytest.mark.fake(["a"])
def test_availability_is_a_percentage_in_text_and_a_fraction_in_json(
    store: ProviderStore, fake: FakeProvider, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "--db", store.url, "providers", "add", "p", fake.base_url, "--no-key")
    assert run(capsys, "--db", store.url, "discover", "p")[0] == 0
    [row] = run_json(capsys, "--db", store.url, "models", "stats")
    assert row["availability"] == 1.0
    assert run_json(capsys, "--db", store.url, "models", "show", "p/a")["availability_7d"] == 1.0
    code, out, _ = run(capsys, "--db", store.url, "models", "stats")
    assert code == 0
    header, _rule, line = out.strip().splitlines()
    assert line.split()[header.split().index("avail")] == "100%"  # not the fraction 1.0
    code, out, _ = run(capsys, "--db", store.url, "models", "show", "p/a")
    assert code == 0
    [shown] = [row for row in out.splitlines() if row.startswith("availability_7d")]
    assert shown.split()[-1] == "100%", shown  # whatever the latency lines say


# -- a read never makes a catalog; a file that is no catalog is bad input ------------------------

READ_COMMANDS = [
    ["providers", "list"],
    ["providers", "show", "p"],
    ["keys", "list"],
    ["models", "list"],
    ["models", "stats"],
    ["changes"],
    ["resolve", "m"],
    ["find", "m"],
    ["export", "-"],
    ["db", "current"],
    ["registries", "check"],
]


@pytest.mark.parametrize("args", READ_COMMANDS, ids=lambda args: " ".join(args))
def test_a_read_of_a_catalog_that_does_not_exist_creates_none(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    typo = tmp_path / "typo.db"
    code, out, err = run(capsys, "--db", str(typo), *args)
    assert (code, out) == (2, "") and one_line(err), err
    assert "db upgrade" in err and "import" in err and str(typo) in err
    assert not typo.exists() and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "args", [["models", "list"], ["providers", "add", "p", "http://h/v1"], ["db", "upgrade"]]
)
def test_a_file_that_is_no_catalog_is_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    config = tmp_path / "litellm.yaml"
    config.write_text("model_list: []\n", encoding="utf-8")
    code, out, err = run(capsys, "--db", str(config), *args)
    assert (code, out) == (2, "") and one_line(err) and "not a provider-store catalog" in err
    assert config.read_text(encoding="utf-8") == "model_list: []\n"


def test_the_commands_that_make_a_catalog_make_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, args in (
        ("a.db", ["db", "upgrade"]),
        ("b.db", ["providers", "add", "p", "http://127.0.0.1:9/v1"]),
    ):
        assert run(capsys, "--db", str(tmp_path / name), *args)[0] == 0
        assert (tmp_path / name).is_file()


# -- Ctrl-C at a prompt ---------------------------------------------------------------------------


def _waiting(pid: int) -> bool:
    """Whether process ``pid`` sleeps in a system call: after its prompt, the read of the
    terminal (True where there is no /proc to tell).

    A SIGINT sent between the prompt's write and that read would wait for the read to end
    (the interpreter raises KeyboardInterrupt only between instructions or when a system call
    is interrupted), as a key pressed at that instant would: the test presses it once the
    command reads."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii")
    except OSError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] == "S"


def _interrupt_at_prompt(args: list[str], prompt: bytes) -> tuple[int, str]:
    """Run the CLI on a pseudo-terminal, press Ctrl-C (SIGINT) once ``prompt`` shows."""
    master, slave = pty.openpty()
    process = zygote.Popen(
        [sys.executable, "-m", "provider_store", *args],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        close_fds=True,
    )
    os.close(slave)
    output = b""
    sent = False
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.05)
            if ready:
                try:
                    chunk = os.read(master, 4096)
                except OSError:  # the child closed the terminal
                    break
                if not chunk:
                    break
                output += chunk
            if not sent and prompt in output and _waiting(process.pid):
                process.send_signal(signal.SIGINT)
                sent = True
            if process.poll() is not None and not ready:
                break
        code = process.wait(timeout=60)
    finally:
        os.close(master)
    return code, output.decode(errors="replace")


@pytest.mark.slow
def test_ctrl_c_at_a_prompt_exits_130(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    with ProviderStore(url) as store:
        store.add_provider("p", "http://127.0.0.1:9/v1")
    for args, prompt in (
        (["--db", url, "keys", "set", "p"], b"API key for p"),
        (["--db", url, "providers", "remove", "p"], b"Remove?"),
    ):
        code, output = _interrupt_at_prompt(args, prompt)
        assert code == 130, output
        assert "Interrupted." in output and "Traceback" not in output
    with ProviderStore(url) as store:
        assert store.provider_keys() == ["p"] and store.get_config("p").api_key == ""
