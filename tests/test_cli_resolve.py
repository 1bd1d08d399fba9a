"""``provider-store resolve``: suggestions for names that do not resolve, and ``--strict``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from helpers import run_cli as run

from provider_store import NotFoundError, ProviderConfig, ProviderStore


@pytest.fixture
def catalog(catalog_url: str) -> Iterator[str]:
    store = ProviderStore(catalog_url)
    store.save_config(
        "openai",
        ProviderConfig(
            name="OpenAI",
            base_api_url="https://api.openai.com/v1",
            valid_models={"gpt-4o-2024-08-06": "4o", "o3-mini": "o3-mini"},
        ),
    )
    store.save_config(
        "together",
        ProviderConfig(
            name="Together",
            base_api_url="https://api.together.xyz/v1",
            valid_models={"Qwen/QwQ-32B": "qwq"},
        ),
    )
    store.close()
    yield catalog_url


def test_an_unknown_model_suggests_the_nearest(
    catalog: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "--db", catalog, "resolve", "gpt-4o")
    assert (code, out) == (2, "")
    assert err.strip() == (
        "Error: Unknown model: gpt-4o (did you mean openai/gpt-4o-2024-08-06 (4o)?)"
    )
    code, _out, err = run(capsys, "--db", catalog, "resolve", "o3-mni")
    assert code == 2 and "did you mean openai/o3-mini?" in err  # an alias equal to the id
    code, _out, err = run(capsys, "--db", catalog, "resolve", "openai/qwen")
    assert code == 2
    assert err.strip() == (
        "Error: Unknown model: openai/qwen (did you mean together/Qwen/QwQ-32B (qwq)?)"
    )
    code, _out, err = run(capsys, "--db", catalog, "resolve", "zzzz")
    assert (code, err.strip()) == (2, "Error: Unknown model: zzzz")  # nothing near: no hint


def test_an_unknown_prefix_is_looked_past_with_a_note(
    catalog: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "--db", catalog, "resolve", "nope/4o")
    assert (code, out.strip()) == (0, "openai/gpt-4o-2024-08-06")
    assert "'nope' is not a provider" in err and "--strict" in err
    code, out, err = run(capsys, "--db", catalog, "resolve", "Qwen/QwQ-32B")
    assert (code, out.strip(), err) == (0, "together/Qwen/QwQ-32B", "")  # a model id, no note


def test_strict_refuses_an_unknown_prefix(catalog: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "--db", catalog, "resolve", "nope/4o", "--strict")
    assert (code, out) == (2, "")
    # no provider is near "nope": the rest is suggested wherever it is
    assert (
        err.strip() == "Error: Unknown model: nope/4o (did you mean openai/gpt-4o-2024-08-06 (4o)?)"
    )
    code, _out, err = run(capsys, "--db", catalog, "resolve", "opnai/o3-mini", "--strict")
    assert (
        code == 2
        and err.strip() == "Error: Unknown model: opnai/o3-mini (did you mean openai/o3-mini?)"
    )
    code, out, _err = run(capsys, "--db", catalog, "resolve", "Qwen/QwQ-32B", "--strict")
    assert (code, out.strip()) == (0, "together/Qwen/QwQ-32B")  # the whole string is an id
    code, out, _err = run(capsys, "--db", catalog, "resolve", "openai/4o", "--strict")
    assert (code, out.strip()) == (0, "openai/gpt-4o-2024-08-06")


def test_unknown_provider_keys_suggest_the_nearest(
    catalog: str, capsys: pytest.CaptureFixture[str]
) -> None:
    for command in (["models", "list", "--provider", "opnai"], ["discover", "opnai"]):
        code, _out, err = run(capsys, "--db", catalog, *command)
        assert code == 2
        assert err.strip() == "Error: Unknown provider: opnai (did you mean openai?)"
    store = ProviderStore(catalog)
    try:
        with pytest.raises(NotFoundError, match=r"^Unknown provider: togther \(did you mean"):
            store.get_config("togther")
        with pytest.raises(NotFoundError, match=r"^Unknown provider: zzz$"):
            store.read_cache("zzz")
    finally:
        store.close()


def test_resolve_help_explains_strict(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _err = run(capsys, "resolve", "--help")
    assert code == 0
    assert "--strict" in out and "unknown provider prefix" in out
