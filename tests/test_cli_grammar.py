"""One grammar for every command: the walk over every command's help, the parameter types
(spans, deadlines, counts, prices, fractions, capability names), the global options in any
position, ``-q``, one width policy and one wording per error.

:data:`COMMAND_CHECKS` is the one list of checks every command (every group and subcommand,
found through click) must pass; a new rule for every command is one more function there.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import click
import pytest
from helpers import run_cli as run

from provider_store import (
    DiscoveryOptions,
    InvalidDocumentError,
    ProviderConfig,
    ProviderManager,
    ProviderStore,
    ProviderStoreError,
)
from provider_store.cli.app import cli
from provider_store.cli.params import Since, Span
from provider_store.rules import MAX_INTEGER, iso_utc, parse_span
from provider_store.testing import FakeProvider

# What the terminal shows is decided above the store: SQLite only (see conftest.py).
pytestmark = pytest.mark.above_the_store

# Options (and arguments, by metavar) that take a span of time: each must use the span types.
SPAN_OPTIONS = frozenset(
    {"--ttl", "--every", "--since", "--keep", "--deadline", "--removal-min-age"}
)
GLOBAL_OPTIONS = ("--db", "-v", "-q", "--json")


def one_line(err: str) -> bool:
    return err.strip() != "" and err.strip().count("\n") == 0 and "Traceback" not in err


# -- the walk over every command ---------------------------------------------------------------


def every_command() -> Iterator[tuple[list[str], click.Command]]:
    """(path, command) of every command and group under the root, loaded through click."""
    cli.load_all()

    def walk(path: list[str], command: click.Command) -> Iterator[tuple[list[str], click.Command]]:
        yield path, command
        if isinstance(command, click.Group):
            ctx = click.Context(command)
            for name in command.list_commands(ctx):
                sub = command.get_command(ctx, name)
                assert sub is not None, name
                yield from walk([*path, name], sub)

    yield from walk([], cli)


def has_global_options(
    path: list[str], command: click.Command, capsys: pytest.CaptureFixture[str]
) -> list[str]:
    """--help runs and lists --json, --db, -v and -q (every command reports in --json)."""
    code, out, err = run(capsys, *path, "--help")
    if code != 0:
        return [f"{' '.join(path)} --help: exit {code}: {err}"]
    words = set(re.findall(r"(?<![\w-])--?[a-z][\w-]*", out))
    return [f"{' '.join(path) or '<root>'}: no {opt}" for opt in GLOBAL_OPTIONS if opt not in words]


def spans_parse_15m(
    path: list[str], command: click.Command, capsys: pytest.CaptureFixture[str]
) -> list[str]:
    """Every span option uses the span types, and each reads ``15m`` as 900 seconds."""
    problems = []
    for param in command.params:
        names = set(getattr(param, "opts", [])) | {param.make_metavar(click.Context(command))}
        is_span = isinstance(param.type, Span | Since)
        if names & SPAN_OPTIONS or "SPAN" in names:
            if not is_span:
                problems.append(f"{' '.join(path)} {param.name}: not a span type")
                continue
        if isinstance(param.type, Span):
            if param.type.seconds("15m") != 900.0:
                problems.append(f"{' '.join(path)} {param.name}: 15m is not 900 s")
            try:
                param.type.convert("15m", param, None)
            except click.BadParameter as exc:  # whole days only: refused as such
                if "whole number of days" not in str(exc):
                    problems.append(f"{' '.join(path)} {param.name}: {exc}")
        elif isinstance(param.type, Since):
            if not isinstance(param.type.convert("15m", param, None), float):
                problems.append(f"{' '.join(path)} {param.name}: 15m is no time")
    return problems


# Each check: (command path, command, capsys) -> the problems it found (empty: none).
COMMAND_CHECKS: list[
    Callable[[list[str], click.Command, pytest.CaptureFixture[str]], list[str]]
] = [has_global_options, spans_parse_15m]


def test_every_command_passes_every_command_check(capsys: pytest.CaptureFixture[str]) -> None:
    commands = list(every_command())
    assert len(commands) > 30  # the walk reached the subcommands of every group
    problems = [
        problem
        for path, command in commands
        for check in COMMAND_CHECKS
        for problem in check(path, command, capsys)
    ]
    assert problems == []


def test_set_ttl_is_a_hidden_alias(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--help")
    assert code == 0 and "set-ttl" not in out
    code, out, _ = run(capsys, "set-ttl", "--help")
    assert code == 0 and "providers set KEY --ttl SPAN" in out


# -- spans ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90s", 90.0), ("15m", 900.0), ("2h", 7200.0), ("7d", 604800.0), ("1w", 604800.0)]
    + [("90", 90.0), ("1.5", 1.5), ("0", 0.0), (" 2H ", 7200.0)],
)
def test_one_span_grammar_a_bare_number_is_seconds(text: str, seconds: float) -> None:
    assert parse_span(text) == seconds


@pytest.mark.parametrize("text", ["nan", "inf", "-1s", "1e3", "soon", "", "10^29w", "9" * 31])
def test_what_is_no_span(text: str) -> None:
    with pytest.raises(ProviderStoreError):
        parse_span(text)


def test_spans_mean_the_same_on_every_option(
    store: ProviderStore, capsys: pytest.CaptureFixture[str]
) -> None:
    store.add_provider("p", "http://127.0.0.1:9/v1")
    url = store.url
    assert run(capsys, "--db", url, "providers", "set", "p", "--ttl", "1h")[0] == 0
    assert store.read_cache("p").ttl_seconds == 3600
    assert run(capsys, "--db", url, "providers", "set", "p", "--ttl", "90")[0] == 0
    assert store.read_cache("p").ttl_seconds == 90
    assert run(capsys, "--db", url, "set-ttl", "p", "10m")[0] == 0
    assert store.read_cache("p").ttl_seconds == 600
    assert run(capsys, "--db", url, "providers", "set", "p", "--removal-min-age", "30")[0] == 0
    assert store.rows.removal_policy("p") == (2, 30.0)
    assert run(capsys, "--db", url, "db", "retention", "2w")[0] == 0
    assert store.retention_days() == 14
    assert run(capsys, "--db", url, "db", "prune", "--keep", "172800")[0] == 0  # seconds
    assert store.retention_days() == 2
    code, _, err = run(capsys, "--db", url, "db", "prune", "--keep", "30")  # 30 seconds
    assert code == 2 and one_line(err) and "whole number of days" in err
    assert run(capsys, "--db", url, "changes", "--since", "30")[0] == 0  # 30 s ago
    code, _, err = run(capsys, "--db", url, "providers", "set", "p", "--ttl", "1.5s")
    assert code == 2 and one_line(err) and "whole number of seconds" in err


@pytest.mark.parametrize(
    "args",
    [
        ["models", "stats", "--since", "1" + "0" * 29 + "w"],
        ["changes", "--since", "99999999999w"],
        ["providers", "set", "p", "--removal-confirmations", str(10**20)],
        ["providers", "set", "p", "--removal-min-age", "100000w"],
        ["providers", "set", "p", "--ttl", str(2**63)],
        ["db", "retention", "100000w"],
        ["changes", "--limit", str(10**20)],
        ["models", "list", "--min-context", str(10**20)],
        ["discover", "--concurrency", str(10**20)],
    ],
    ids=lambda args: " ".join(args)[:40],
)
def test_no_value_overflows_a_database(
    store: ProviderStore, capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    store.add_provider("p", "http://127.0.0.1:9/v1")
    code, out, err = run(capsys, "--db", store.url, *args)
    assert code == 2 and out == "" and one_line(err), err
    assert store.rows.removal_policy("p") == (2, 3600.0) and store.retention_days() == 90


@pytest.mark.parametrize("since", ["0001-01-01", "9999-12-31T23:59:59", "1970-01-01T00:00Z"])
def test_any_iso_time_reads_history_on_every_backend(
    store: ProviderStore, capsys: pytest.CaptureFixture[str], since: str
) -> None:
    for command in (["changes"], ["models", "stats"]):
        code, out, err = run(capsys, "--db", store.url, *command, "--since", since, "--json")
        assert (code, json.loads(out)) == (0, []), err


def test_the_library_bounds_history_reads_and_removal_policies(store: ProviderStore) -> None:
    store.add_provider("p", "http://127.0.0.1:9/v1")
    for since in (-1e30, 1e300, float("nan")):
        with pytest.raises(ProviderStoreError):
            store.changes(since=since)
        with pytest.raises(ProviderStoreError):
            store.model_stats(since=since)
    for bad in ({"confirmations": MAX_INTEGER + 1}, {"min_age_seconds": float("nan")}):
        with pytest.raises(ProviderStoreError):
            store.rows.set_removal_policy("p", **bad)  # type: ignore[arg-type]
    with pytest.raises(ProviderStoreError):
        store.set_retention_days(10**9)


# -- deadlines, fractions, prices, capabilities -------------------------------------------------


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "0", "1e10", "2d"])
@pytest.mark.parametrize("command", [["discover"], ["refresh", "--once"]])
def test_deadlines_are_finite_on_discover_and_refresh(
    store: ProviderStore, capsys: pytest.CaptureFixture[str], command: list[str], value: str
) -> None:
    code, out, err = run(capsys, "--db", store.url, *command, f"--deadline={value}")
    assert code == 2 and out == "" and one_line(err) and "--deadline" in err


def test_the_library_refuses_deadlines_that_are_not_finite(store: ProviderStore) -> None:
    manager = ProviderManager(store=store)
    for bad in (float("nan"), float("inf"), -1.0, 0.0, 1e10):
        with pytest.raises(InvalidDocumentError):
            DiscoveryOptions.build(deadline=bad)
        with pytest.raises(ProviderStoreError):
            manager.discover(deadline=bad)
    from provider_store.discovery.keeper import Keeper
    from provider_store.discovery.service import ModelDiscoveryService

    with ModelDiscoveryService(store) as service:
        for options in ({"jitter": float("nan")}, {"every": float("inf")}, {"deadline": 1e10}):
            with pytest.raises(ProviderStoreError):
                Keeper(store, service, **options)  # type: ignore[arg-type]


@pytest.mark.parametrize("value", ["nan", "inf", "1", "-0.1"])
def test_jitter_is_a_finite_fraction(
    store: ProviderStore, capsys: pytest.CaptureFixture[str], value: str
) -> None:
    code, out, err = run(capsys, "--db", store.url, "refresh", "--once", "--jitter", value)
    assert code == 2 and out == "" and one_line(err) and "--jitter" in err


@pytest.mark.parametrize("value", ["nan", "inf", "-1", "cheap"])
def test_prices_are_finite_and_not_negative(
    store: ProviderStore, capsys: pytest.CaptureFixture[str], value: str
) -> None:
    store.save_config("p", ProviderConfig(valid_models={"m": "m"}))
    code, _, err = run(capsys, "--db", store.url, "models", "set", "p/m", "--input-price", value)
    assert code == 2 and one_line(err) and "--input-price" in err
    assert store.model_metadata("p", "m").values == {}


def test_capability_names_are_checked_against_the_known_set(
    store: ProviderStore, capsys: pytest.CaptureFixture[str]
) -> None:
    store.save_config("p", ProviderConfig(valid_models={"m": "m"}))
    code, out, err = run(capsys, "--db", store.url, "models", "list", "--capability", "tool")
    assert code == 2 and out == "" and one_line(err)
    assert "did you mean tools?" in err and "vision" in err and "reasoning" in err
    code, _, err = run(capsys, "--db", store.url, "models", "set", "p/m", "--capability", "tol")
    assert code == 2 and one_line(err) and "tools" in err
    code, _, _ = run(capsys, "--db", store.url, "models", "set", "p/m", "--capability", "Tools")
    assert code == 0 and store.model_metadata("p", "m").values["capabilities"].value == ["tools"]


def test_every_folded_capability_is_a_known_name() -> None:
    from provider_store.model_info import CAPABILITY_NAMES
    from provider_store.providers.listed_info import model_info

    spellings = ["function_calling", "tool_use", "vision", "image", "thinking", "chat"]
    spellings += ["embedding", "json_mode", "response_format", "structured_output", "vlm"]
    info = model_info({"id": "m", "capabilities": spellings})
    assert info.capabilities and set(info.capabilities) <= set(CAPABILITY_NAMES)


# -- global options in any position, and -q ------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["--json", "providers", "list"],
        ["providers", "--json", "list"],
        ["providers", "list", "--json"],
        ["-v", "providers", "list", "--json"],
        ["providers", "list", "-v", "--json"],
        ["providers", "-q", "list", "--json"],
    ],
)
def test_global_options_stand_anywhere(
    db_url: str, store: ProviderStore, capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    store.add_provider("p", "http://127.0.0.1:9/v1")
    before, after = (["--db", db_url], []) if "-v" in args else ([], ["--db", db_url])
    code, out, err = run(capsys, *before, *args, *after)
    assert code == 0, err
    assert [row["key"] for row in json.loads(out)] == ["p"]


def test_quiet_keeps_errors_and_what_was_asked_for(
    store: ProviderStore, capsys: pytest.CaptureFixture[str]
) -> None:
    url = store.url
    assert run(capsys, "--db", url, "-q", "providers", "add", "p", "http://127.0.0.1:9/v1") == (
        0,
        "",
        "",
    )
    assert run(capsys, "--db", url, "changes", "-q") == (0, "", "")
    assert run(capsys, "--db", url, "-q", "models", "list", "--capability", "vision") == (0, "", "")
    code, out, _ = run(capsys, "--db", url, "-q", "providers", "set", "p", "--ttl", "1m", "--json")
    assert code == 0 and json.loads(out)["cache_ttl_seconds"] == 60
    code, out, _ = run(capsys, "--db", url, "-q", "providers", "list")
    assert code == 0 and "p" in out
    code, out, err = run(capsys, "--db", url, "-q", "providers", "show", "nope")
    assert code == 2 and out == "" and "Unknown provider: nope" in err
    code, _, err = run(capsys, "--db", url, "-q", "-v", "providers", "list")
    assert code == 2 and one_line(err)


# -- one width policy ----------------------------------------------------------------------------

LONG_ID = "org/" + "very-long-model-name-" * 12


def _long_catalog(store: ProviderStore, capsys: pytest.CaptureFixture[str]) -> None:
    """Provider ``p`` listing ``m`` and a model with a long id, discovered (events written)."""
    with FakeProvider(["m", LONG_ID]) as fake:
        assert (
            run(capsys, "--db", store.url, "providers", "add", "p", fake.base_url, "--no-key")[0]
            == 0
        )
        assert run(capsys, "--db", store.url, "discover", "p")[0] == 0


def test_piped_tables_and_feeds_are_never_cut(
    store: ProviderStore, capsys: pytest.CaptureFixture[str]
) -> None:
    _long_catalog(store, capsys)
    for command in (["models", "list"], ["changes"], ["models", "list", "--all"]):
        code, out, err = run(capsys, "--db", store.url, *command)
        assert code == 0, err
        line = next(line for line in out.splitlines() if LONG_ID in line)
        assert "…" not in out and "left out" not in out, command
        assert line.count(LONG_ID) >= 1


def test_a_terminal_width_folds_feeds_without_cutting(
    store: ProviderStore, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _long_catalog(store, capsys)
    code, piped, _ = run(capsys, "--db", store.url, "changes")
    monkeypatch.setenv("COLUMNS", "50")
    code, out, err = run(capsys, "--db", store.url, "changes")
    assert code == 0, err
    assert "…" not in out and LONG_ID in out
    for line in out.splitlines():
        assert len(line) <= 50 or LONG_ID in line  # only a word longer than the line is wider
    assert len(out.splitlines()) > len(piped.splitlines())  # the verdict's reason folded
    assert out.split() == piped.split()  # every word is still there


# -- one wording per error -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["providers", "show", "opnai"],
        ["providers", "set", "opnai", "--ttl", "5"],
        ["providers", "rename", "opnai", "x"],
        ["providers", "remove", "opnai", "--yes"],
        ["keys", "unset", "opnai"],
        ["models", "list", "--provider", "opnai"],
        ["models", "stats", "opnai"],
        ["models", "set", "opnai/m", "--context", "5"],
        ["discover", "opnai"],
        ["refresh", "--once", "opnai"],
        ["registries", "check", "opnai"],
        ["set-ttl", "opnai", "5"],
    ],
    ids=lambda args: " ".join(args[:2]),
)
def test_an_unknown_provider_is_worded_one_way(
    store: ProviderStore, capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    store.add_provider("openai", "https://api.openai.com/v1")
    code, out, err = run(capsys, "--db", store.url, *args)
    assert (code, out) == (2, "")
    if args[0] == "models" and args[1] != "list":  # a MODEL argument: the one unknown-model line
        assert err == f"Error: Unknown model: {args[2]} (did you mean openai?)\n"
    else:
        assert err == "Error: Unknown provider: opnai (did you mean openai?)\n"


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["providers", "add", "bad", "ftp://x/v1"], "provider bad, base_api_url: must be"),
        (["providers", "add", "x", "http://h/v1", "--option", "bogus=1"], "provider x, options."),
        (["providers", "set", "p", "--url", "ftp://x/v1"], "provider p, base_api_url: must be"),
    ],
)
def test_a_cli_verb_never_speaks_in_yaml_field_paths(
    store: ProviderStore, capsys: pytest.CaptureFixture[str], args: list[str], words: str
) -> None:
    store.add_provider("p", "http://127.0.0.1:9/v1")
    code, _, err = run(capsys, "--db", store.url, *args)
    assert code == 2 and one_line(err) and words in err
    assert "<input>" not in err and "[providers." not in err


def test_usage_errors_are_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    for args in (["providers", "list", "--nope"], ["provider", "list"], ["changes", "--type", "x"]):
        code, out, err = run(capsys, "--db", str(tmp_path / "c.db"), *args)
        assert code == 2 and out == "" and one_line(err) and "--help" in err, args


def test_key_sources_are_worded_the_same_in_providers_and_keys(
    store: ProviderStore, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FROMENV_API_KEY", "sk-from-the-environment-1234")
    monkeypatch.delenv("NOKEY_API_KEY", raising=False)
    store.add_provider("fromenv", "http://127.0.0.1:9/v1")
    store.add_provider("nokey", "http://127.0.0.1:9/v1")
    store.add_provider("local", "http://127.0.0.1:9/v1", keyless=True)
    store.add_provider("stored", "http://127.0.0.1:9/v1")
    store.set_api_key("stored", "sk-stored-secret-5678")
    words = {
        "fromenv": "env $FROMENV_API_KEY",
        "nokey": "missing: set $NOKEY_API_KEY",
        "local": "keyless",
        "stored": "stored",
    }
    monkeypatch.setenv("COLUMNS", "200")
    for command in (["providers", "list"], ["keys", "list"]):
        code, out, _ = run(capsys, "--db", store.url, *command)
        assert code == 0
        for key, text in words.items():
            row = next(line for line in out.splitlines() if line.startswith(f"{key} "))
            assert text in row, (command, key)
        assert "sk-from-the-environment" not in out and "sk-stored-secret" not in out
    for key, text in words.items():
        code, out, _ = run(capsys, "--db", store.url, "providers", "show", key)
        assert code == 0 and f"api key     {text}" in out


def test_json_times_are_written_one_way(
    store: ProviderStore, capsys: pytest.CaptureFixture[str]
) -> None:
    _long_catalog(store, capsys)
    stamp = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
    code, out, _ = run(capsys, "--db", store.url, "providers", "list", "--json")
    assert stamp.match(json.loads(out)[0]["fetched_at"])
    code, out, _ = run(capsys, "--db", store.url, "changes", "--json")
    assert all(stamp.match(event["observed_at"]) for event in json.loads(out))
    assert iso_utc(1_767_225_600.0) == "2026-01-01T00:00:00Z"
    code, out, _ = run(capsys, "--db", store.url, "models", "stats", "--json")
    assert json.loads(out) and all(stamp.match(row["last_at"]) for row in json.loads(out))
    code, out, _ = run(capsys, "--db", store.url, "models", "show", "p/m", "--json")
    assert all(stamp.match(s["observed_at"]) for s in json.loads(out)["sources"].values())
