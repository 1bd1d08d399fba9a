"""simonw's ``llm`` with provider-store installed beside it: the catalog's models are ``llm``
models (the ``llm`` entry point), prompted through loopback providers, on each backend.

``llm`` is a test dependency (the ``test`` extra, which ``make install`` installs); without it
this module is skipped with that reason. Every ``llm`` here is a new
process with its own ``LLM_USER_PATH``, as a user runs it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import zygote

from provider_store import ProviderConfig, ProviderStore
from provider_store.testing import FakeProvider

LLM = Path(sys.executable).parent / "llm"
KEY = "sk-llm-plugin-test-0123456789"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not LLM.exists(),
        reason="needs llm beside provider-store: pip install -e '.[test]' (llm 0.36)",
    ),
]


@pytest.fixture
def keyed() -> Iterator[FakeProvider]:
    with FakeProvider(["llama-3.1-8b-instant", "gemma2-9b-it"], api_key=KEY) as server:
        yield server


@pytest.fixture
def keyless() -> Iterator[FakeProvider]:
    with FakeProvider(["qwen3"]) as server:
        yield server


@pytest.fixture
def catalog(store: ProviderStore, keyed: FakeProvider, keyless: FakeProvider) -> ProviderStore:
    """groq (its key stored), a keyless local server, and a provider of another kind."""
    store.save_config(
        "groq",
        ProviderConfig(
            name="Groq",
            base_api_url=keyed.base_url,
            api_key=KEY,
            valid_models={"llama-3.1-8b-instant": "llama8", "gemma2-9b-it": "4o"},
        ),
    )
    store.save_config(
        "local",
        ProviderConfig(
            name="Local",
            base_api_url=keyless.base_url,
            valid_models={"qwen3": "q3"},
            options={"no_key": True, "headers": {"X-Team": "team-7"}},
        ),
    )
    store.save_config(
        "claude",
        ProviderConfig(
            name="Anthropic",
            base_api_url="https://api.anthropic.example/v1",
            valid_models={"claude-x": "claude-x"},
        ),
    )
    store.update_provider("claude", kind="anthropic")
    store.set_model_metadata(
        "groq", "llama-3.1-8b-instant", context_length=131072, input_price=0.05, output_price=0.08
    )
    return store


def llm(
    url: str, home: Path, *args: str, cold: bool = False, **extra: str
) -> subprocess.CompletedProcess[str]:
    """``llm ARGS`` in a new process reading the catalog at ``url``, with no provider key in
    its environment (the OpenAI client would fall back to $OPENAI_API_KEY).

    The process is ``python -m llm`` forked from the test zygote (``tests/zygote.py``, which has
    imported neither ``llm`` nor the plugin's module, ``provider_store.exports.llm_plugin``: the
    plugin loads through its entry point as in a new interpreter); with ``cold`` it is the
    ``llm`` console script in a new interpreter."""
    env = {name: value for name, value in os.environ.items() if not name.endswith("_API_KEY")}
    env.update(PROVIDER_STORE_URL=url, LLM_USER_PATH=str(home), **extra)
    env.pop("LLM_LOAD_PLUGINS", None)
    if cold:
        return subprocess.run(
            [str(LLM), *args], capture_output=True, text=True, env=env, timeout=120, check=False
        )
    return zygote.run(
        [sys.executable, "-m", "llm", *args], capture_output=True, text=True, env=env, timeout=120
    )


def test_llm_models_lists_the_catalogs_usable_models_with_context_and_prices(
    catalog: ProviderStore, tmp_path: Path
) -> None:
    result = llm(catalog.url, tmp_path, "models", "list", "-q", "provider-store")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "provider-store: groq/llama-3.1-8b-instant (context 131,072, input $0.05 / 1M tokens,"
        " output $0.08 / 1M tokens) (aliases: groq/llama8, llama8)",
        # llm's own OpenAI plugin, asked first, has 4o: it stays llm's.
        "provider-store: groq/gemma2-9b-it (aliases: groq/4o)",
        "provider-store: local/qwen3 (aliases: local/q3, q3)",
    ]
    assert KEY not in result.stdout + result.stderr


def test_llm_prompts_a_keyed_and_a_keyless_provider_through_the_plugin(
    catalog: ProviderStore, tmp_path: Path, keyed: FakeProvider, keyless: FakeProvider
) -> None:
    # By alias and by provider/model (each ``llm`` is a process of its own: two are enough).
    for model in ("llama8", "local/qwen3"):
        result = llm(catalog.url, tmp_path, "-m", model, "--no-stream", "hi")
        assert (result.returncode, result.stdout.strip()) == (0, "Pong!"), result.stderr
    # The keyed provider accepts only its key (401 otherwise): the key the catalog holds.
    (keyed_chat,) = [r for r in keyed.requests if r.path.endswith("/chat/completions")]
    assert keyed_chat.json["model"] == "llama-3.1-8b-instant"
    (chat,) = [r for r in keyless.requests if r.path.endswith("/chat/completions")]
    assert chat.json["model"] == "qwen3"
    headers = {name.lower(): value for name, value in chat.headers.items()}
    assert KEY not in headers.get("authorization", "")
    assert headers["x-team"] == "team-7"  # the provider's extra headers go along


def test_a_key_comes_from_the_catalog_else_the_environment_and_is_never_shown(
    tmp_path: Path, keyed: FakeProvider
) -> None:
    """Where the key comes from does not depend on the backend: one is enough."""
    store = ProviderStore(f"sqlite:///{tmp_path / 'catalog.db'}")
    store.save_config(
        "groq",
        ProviderConfig(
            name="Groq", base_api_url=keyed.base_url, valid_models={"gemma2-9b-it": "gemma"}
        ),
    )
    store.close()
    result = llm(store.url, tmp_path, "-m", "gemma", "--no-stream", "hi", GROQ_API_KEY=KEY)
    assert (result.returncode, result.stdout.strip()) == (0, "Pong!"), result.stderr
    result = llm(store.url, tmp_path, "-m", "gemma", "--no-stream", "hi")
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "Error: No key for provider groq: store one with 'provider-store keys set groq' or"
        " 'llm keys set groq', or set $GROQ_API_KEY"
    )


def test_no_catalog_yet_means_no_models_and_no_file(tmp_path: Path) -> None:
    missing = tmp_path / "none" / "catalog.db"
    result = llm(f"sqlite:///{missing}", tmp_path, "models", "list", cold=True)
    assert result.returncode == 0, result.stderr
    assert "provider-store" not in result.stdout + result.stderr
    assert "gpt-4o" in result.stdout  # llm's own models are there
    assert not missing.exists() and not missing.parent.exists()
