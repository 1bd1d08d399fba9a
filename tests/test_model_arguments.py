"""Every command that takes a model reads it the same way: ``P/ALIAS``, ``ALIAS``, ``P/ID`` and
``ID`` name the same model, and a miss is ``Unknown model: TEXT`` with exit 2. Both backends."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from helpers import run_cli as run

from provider_store import (
    AmbiguousModelError,
    ModelRef,
    ProviderConfig,
    ProviderManager,
    ProviderStore,
    UnknownModelError,
)

MODEL = "openai/gpt-4o-2024-08-06"
FORMS = ["openai/4o", "4o", "OPENAI/gpt-4o-2024-08-06", "gpt-4o-2024-08-06"]

# Every command that takes a model, with what else it needs.
COMMANDS: list[tuple[list[str], list[str]]] = [
    (["resolve"], []),
    (["find"], []),
    (["models", "show"], ["--json"]),
    (["models", "stats"], ["--json"]),
    (["models", "mark"], ["valid"]),
    (["models", "unmark"], []),
    (["models", "set"], ["--context", "1000"]),
    (["models", "unset"], ["context_length"]),
    (["models", "alias"], ["4o"]),
    (["models", "unalias"], []),
]


@pytest.fixture
def catalog(store: ProviderStore) -> Iterator[str]:
    store.save_config(
        "openai",
        ProviderConfig(
            base_api_url="https://api.openai.com/v1",
            valid_models={"gpt-4o-2024-08-06": "4o", "shared": "shared"},
            invalid_models=["text-embedding-3-small"],
        ),
    )
    store.save_config(
        "together",
        ProviderConfig(
            base_api_url="https://api.together.xyz/v1",
            valid_models={"Qwen/QwQ-32B": "qwq", "shared": "shared"},
        ),
    )
    yield store.url


@pytest.mark.parametrize(("command", "extra"), COMMANDS, ids=lambda v: " ".join(v) or "-")
def test_every_command_takes_the_four_forms_and_words_a_miss_alike(
    catalog: str, capsys: pytest.CaptureFixture[str], command: list[str], extra: list[str]
) -> None:
    for form in FORMS:
        code, out, err = run(capsys, "--db", catalog, *command, form, *extra)
        assert code == 0, (form, err)
        if command == ["models", "stats"]:
            assert json.loads(out) == []  # a model the catalog holds, with no pings yet
        elif command == ["models", "show"]:
            assert (json.loads(out)["provider"], json.loads(out)["model"]) == tuple(
                MODEL.split("/")
            )
        else:
            assert MODEL in out, (form, out)
        if command == ["models", "unalias"]:  # give the alias back for the next form
            assert run(capsys, "--db", catalog, "models", "alias", MODEL, "4o")[0] == 0
    for miss in ("openai/nonexistent", "nonexistent"):
        code, out, err = run(capsys, "--db", catalog, *command, miss, *extra)
        assert (code, out, err) == (2, "", f"Error: Unknown model: {miss}\n")
    code, out, err = run(capsys, "--db", catalog, *command, "openai/gpt-4o-2024-08-07", *extra)
    assert (code, out) == (2, "")
    assert err == (
        "Error: Unknown model: openai/gpt-4o-2024-08-07 (did you mean"
        " openai/gpt-4o-2024-08-06 (4o)?)\n"
    )


def test_a_whole_id_with_a_slash_and_a_name_two_providers_hold(
    catalog: str, capsys: pytest.CaptureFixture[str]
) -> None:
    for command, extra in COMMANDS:
        extra = ["qwq"] if command == ["models", "alias"] else extra
        code, out, err = run(capsys, "--db", catalog, *command, "Qwen/QwQ-32B", *extra)
        assert code == 0, (command, err)
    # a name two providers hold: the curation verbs refuse to guess, resolve picks the first
    for command in (["models", "show"], ["models", "mark", "shared", "valid"], ["models", "stats"]):
        code, _, err = run(capsys, "--db", catalog, *command[:2], "shared", *command[3:])
        assert code == 2 and "matches openai/shared, together/shared" in err
    code, out, err = run(capsys, "--db", catalog, "resolve", "shared")
    assert (code, out) == (0, "openai/shared\n") and "also matches together/shared" in err


def test_curation_verbs_reach_every_model_resolve_only_valid_ones(
    catalog: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "--db", catalog, "models", "show", "text-embedding-3-small")
    assert code == 0 and "invalid" in out
    code, _, err = run(capsys, "--db", catalog, "resolve", "text-embedding-3-small")
    assert (code, err) == (2, "Error: Unknown model: text-embedding-3-small\n")
    code, out, err = run(capsys, "--db", catalog, "models", "mark", "text-embedding-3-small",
                         "valid")  # fmt: skip
    assert code == 0, err
    code, out, _ = run(capsys, "--db", catalog, "resolve", "text-embedding-3-small")
    assert (code, out) == (0, "openai/text-embedding-3-small\n")


def test_models_stats_by_provider_alias_and_unknown(
    catalog: str, capsys: pytest.CaptureFixture[str]
) -> None:
    for target in ("openai", "openai/", "4o"):
        assert run(capsys, "--db", catalog, "models", "stats", target)[0] == 0
    code, out, err = run(capsys, "--db", catalog, "models", "stats", "openai/nonexistent")
    assert (code, out, err) == (2, "", "Error: Unknown model: openai/nonexistent\n")
    code, _, err = run(capsys, "--db", catalog, "models", "stats", "opnai")
    assert (code, err) == (2, "Error: Unknown model: opnai (did you mean openai?)\n")


def test_the_library_resolves_the_four_forms_and_keeps_the_legacy_messages(
    catalog: str,
) -> None:
    store = ProviderStore(catalog)
    manager = ProviderManager(store=store)
    try:
        for form in FORMS:
            ref = manager.resolve(form)
            assert isinstance(ref, ModelRef) and str(ref) == MODEL and ref.alias == "4o"
            assert manager.locate(form) == ref
            assert [str(r) for r in manager.search(form)] == [MODEL]
        assert manager.resolve("shared").candidates == ("openai/shared", "together/shared")
        with pytest.raises(AmbiguousModelError):
            manager.resolve("shared", strict=True)
        assert manager.resolve("nope/qwq").skipped_prefix == "nope"
        assert str(manager.locate("text-embedding-3-small")) == "openai/text-embedding-3-small"
        with pytest.raises(UnknownModelError, match=r"^Unknown model: openai/nope$"):
            manager.resolve("openai/nope")
        # the legacy face says what it always said
        with pytest.raises(ValueError, match=r"^Invalid model for provider openai: nope$"):
            manager.get_api_for_model_string("openai/nope")
        with pytest.raises(ValueError, match=r"^Invalid model: nope$"):
            manager.get_api_for_model_string("nope")
    finally:
        store.close()
