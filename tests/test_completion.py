"""Completion of model and provider arguments: through click's shell completion (as bash calls
it: ``_PROVIDER_STORE_COMPLETE=bash_complete`` with ``COMP_WORDS`` / ``COMP_CWORD``), for every
command that takes one, and the library's ranked completions for chat clients."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
import zygote
from helpers import run_cli

from provider_store import Completion, ProviderConfig, ProviderManager, ProviderStore
from provider_store.cli import cli
from provider_store.cli.model_param import ModelType, ProviderKeyType

# What the brief of every model argument says.
MODEL_COMMANDS = {
    "find",
    "resolve",
    "models alias",
    "models mark",
    "models set",
    "models show",
    "models stats",
    "models unalias",
    "models unmark",
    "models unset",
}
# Provider arguments that name a provider that does not exist yet: nothing to complete.
NEW_KEYS = {("providers add", "key"), ("providers rename", "new")}


@pytest.fixture
def catalog(store: ProviderStore) -> Iterator[str]:
    store.save_config(
        "openai",
        ProviderConfig(
            base_api_url="https://api.openai.com/v1",
            valid_models={"gpt-4o-2024-08-06": "4o", "gpt-4o-mini": "gpt-4o-mini"},
            invalid_models=["text-embedding-3-small"],
        ),
    )
    store.save_config(
        "ollama",
        ProviderConfig(
            base_api_url="http://127.0.0.1:11434/v1",
            valid_models={"llama3.2:3b": "llama3.2:3b", "gpt-4o-mini": "gpt-4o-mini"},
        ),
    )
    store.save_config(
        "together",
        ProviderConfig(
            base_api_url="https://api.together.xyz/v1", valid_models={"Qwen/QwQ-32B": "qwq"}
        ),
    )
    yield store.url


def complete(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *words: str
) -> list[str]:
    """What bash is offered for the last of ``words`` (``""`` completes a new word)."""
    monkeypatch.setenv("_PROVIDER_STORE_COMPLETE", "bash_complete")
    monkeypatch.setenv("COMP_WORDS", " ".join(["provider-store", *words]))
    monkeypatch.setenv("COMP_CWORD", str(len(words)))
    code, out, err = run_cli(capsys)
    monkeypatch.delenv("_PROVIDER_STORE_COMPLETE")
    assert (code, err) == (0, "")
    return [line.split(",", 1)[1] for line in out.splitlines() if line]


def commands(group: click.Group, path: str = "") -> Iterator[tuple[str, click.Command]]:
    """Every command under ``group``, with its path (``models show``)."""
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None
        full = f"{path} {name}".strip()
        if isinstance(command, click.Group):
            yield from commands(command, full)
        else:
            yield full, command


def test_every_model_argument_has_the_model_type_and_every_provider_argument_its_own() -> None:
    cli.load_all()
    model_args, provider_args = set(), set()
    for path, command in commands(cli):
        for param in command.params:
            names = f"{param.name} {param.human_readable_name}".lower()
            if isinstance(param.type, ModelType):
                model_args.add(path)
                assert "MODEL is provider/model, provider/alias, an alias or a model id" in (
                    command.help or ""
                ).replace("\n    ", " ") or path in {"find", "resolve", "models stats"}, path
            elif isinstance(param.type, ProviderKeyType):
                provider_args.add((path, param.name))
            elif "model" in names and isinstance(param, click.Argument):
                pytest.fail(f"{path}: argument {param.name} is a model without completion")
            elif param.name in {"key", "keys", "provider", "providers", "old", "new"}:
                assert (path, param.name) in NEW_KEYS, f"{path}: {param.name} does not complete"
    assert model_args == MODEL_COMMANDS
    assert {path for path, _ in provider_args} >= {
        "discover", "keys set", "keys unset", "providers set", "providers remove",
        "providers rename", "refresh", "set-ttl", "models list", "changes",
    }  # fmt: skip


@pytest.mark.above_the_store
def test_every_model_argument_completes_through_click(
    catalog: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for path in sorted(MODEL_COMMANDS):
        words = ["--db", catalog, *path.split()]
        assert complete(monkeypatch, capsys, *words, "q") == ["qwq", "Qwen/QwQ-32B"], path
        assert complete(monkeypatch, capsys, *words, "together/") == [
            "together/qwq",
            "together/Qwen/QwQ-32B",
        ], path
        # one provider matches: its models are offered too, so the shell stops after "key/"
        offered = complete(monkeypatch, capsys, *words, "tog")
        assert offered == ["together/", "together/qwq", "together/Qwen/QwQ-32B"], path


@pytest.mark.above_the_store
def test_model_completions_rank_and_follow_what_the_command_takes(
    catalog: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    db = ["--db", catalog]
    assert complete(monkeypatch, capsys, *db, "models", "show", "o") == ["ollama/", "openai/"]
    # a bare id two providers hold is offered once; aliases before ids
    assert complete(monkeypatch, capsys, *db, "resolve", "") == [
        "ollama/", "openai/", "together/", "4o", "qwq", "gpt-4o-2024-08-06", "gpt-4o-mini",
        "llama3.2:3b", "Qwen/QwQ-32B",
    ]  # fmt: skip
    # resolve takes valid models; the curation verbs take every model the catalog holds
    assert complete(monkeypatch, capsys, *db, "resolve", "text") == []
    assert complete(monkeypatch, capsys, *db, "models", "mark", "text") == [
        "text-embedding-3-small"
    ]
    assert complete(monkeypatch, capsys, *db, "models", "show", "OPENAI/4") == ["openai/4o"]
    # --db after the subcommand is read too
    assert complete(monkeypatch, capsys, "models", "show", "--db", catalog, "4") == ["4o"]


@pytest.mark.above_the_store
def test_provider_arguments_complete_provider_keys(
    catalog: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    db = ["--db", catalog]
    assert complete(monkeypatch, capsys, *db, "discover", "o") == ["openai", "ollama"]
    assert complete(monkeypatch, capsys, *db, "keys", "set", "T") == ["together"]
    assert complete(monkeypatch, capsys, *db, "models", "list", "--provider", "") == [
        "openai",
        "ollama",
        "together",
    ]
    assert complete(monkeypatch, capsys, *db, "providers", "add", "o") == []  # a new key


def test_completion_never_creates_or_migrates_a_catalog(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "typo.db"
    assert complete(monkeypatch, capsys, "--db", str(missing), "models", "show", "") == []
    assert complete(monkeypatch, capsys, "--db", str(missing), "discover", "") == []
    not_a_catalog = tmp_path / "notes.db"
    not_a_catalog.write_bytes(b"not a database at all")
    assert complete(monkeypatch, capsys, "--db", str(not_a_catalog), "resolve", "") == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.db"]
    assert not_a_catalog.read_bytes() == b"not a database at all"


def test_a_real_shell_call_of_the_installed_command(catalog: str) -> None:
    """The console script, run as bash's completion function runs it."""
    exe = Path(sys.executable).with_name("provider-store")
    command = [str(exe)] if exe.exists() else [sys.executable, "-m", "provider_store"]
    env = {
        **os.environ,
        "_PROVIDER_STORE_COMPLETE": "bash_complete",
        "COMP_WORDS": f"provider-store --db {catalog} models alias openai/",
        "COMP_CWORD": "5",
    }
    done = zygote.run(command, env=env, timeout=60, capture_output=True, text=True)
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout.splitlines() == [
        "plain,openai/4o",
        "plain,openai/gpt-4o-2024-08-06",
        "plain,openai/gpt-4o-mini",
        "plain,openai/text-embedding-3-small",  # models alias takes any model (and says why not)
    ]


# -- the library: ranked completions for chat clients ----------------------------------------


@pytest.mark.above_the_store
def test_the_library_ranks_exact_then_providers_then_prefixes_then_substrings(
    catalog: str,
) -> None:
    with ProviderManager(store=ProviderStore(catalog), close_store=True) as manager:
        assert manager.complete("4o") == [
            Completion("4o", "alias", "openai", "gpt-4o-2024-08-06", "openai/gpt-4o-2024-08-06")
        ]  # two letters: names starting with them only
        assert [c.text for c in manager.complete("-4o")] == ["gpt-4o-2024-08-06", "gpt-4o-mini"]
        assert [c.text for c in manager.complete("mini")] == ["gpt-4o-mini"]  # contains it
        assert [c.text for c in manager.complete("GPT-4O-MINI")] == ["gpt-4o-mini"]
        assert manager.complete("gpt-4o-m")[0].meta == "openai, ollama"
        assert [c.text for c in manager.complete("o", limit=2)] == ["ollama/", "openai/"]
        assert manager.complete("o")[0].meta == "provider, 2 models"
        assert [c.text for c in manager.complete("openai/")] == [
            "openai/4o",
            "openai/gpt-4o-2024-08-06",
            "openai/gpt-4o-mini",
        ]
        assert [c.text for c in manager.complete("openai/", every=True)][-1] == (
            "openai/text-embedding-3-small"
        )
        assert manager.complete("zzz") == [] and manager.complete("x", limit=0) == []


@pytest.mark.above_the_store
def test_a_prompt_toolkit_completer_over_the_manager(catalog: str) -> None:
    from prompt_toolkit.completion import CompleteEvent, Completer
    from prompt_toolkit.completion import Completion as PromptCompletion
    from prompt_toolkit.document import Document

    manager = ProviderManager(store=ProviderStore(catalog), close_store=True)

    class ModelCompleter(Completer):
        def get_completions(
            self, document: Document, complete_event: CompleteEvent
        ) -> Iterator[PromptCompletion]:
            typed = document.text_before_cursor
            for c in manager.complete(typed):
                yield PromptCompletion(c.text, start_position=-len(typed), display_meta=c.meta)

    with manager:
        document = Document("mini")
        offered = list(ModelCompleter().get_completions(document, CompleteEvent()))
        assert [c.text for c in offered] == ["gpt-4o-mini"]
        assert offered[0].display_meta_text == "openai, ollama"
        # what the buffer holds once the first completion is applied
        applied = document.text[: len(document.text) + offered[0].start_position] + offered[0].text
        assert applied == "gpt-4o-mini"
        assert str(manager.resolve(applied)) == "openai/gpt-4o-mini"
