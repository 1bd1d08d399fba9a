"""A real LiteLLM proxy starts on an exported config, as it is, and serves a keyed and a keyless
provider (loopback servers), by each model's ``provider/model`` name and by its alias.

LiteLLM's proxy is an optional test dependency in a venv of its own (``make litellm-proxy``,
which CI runs; ``$PROVIDER_STORE_TEST_LITELLM`` names another ``litellm`` executable); without it
this module is skipped with that reason. The proxy does not read the catalog, only the exported
file, so one backend is enough here: ``test_litellm_export.py`` checks the file on each.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from provider_store import ProviderConfig, ProviderStore, litellm_config
from provider_store.testing import FakeProvider

LITELLM = Path(
    os.environ.get("PROVIDER_STORE_TEST_LITELLM")
    or Path(__file__).resolve().parents[1] / ".venv-litellm" / "bin" / "litellm"
)
KEY = "sk-proxy-test-0123456789"
READY = "Uvicorn running on"
START_TIMEOUT = 180.0

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not LITELLM.exists(),
        reason=f"needs LiteLLM's proxy at {LITELLM}: make litellm-proxy (litellm[proxy] 1.108.7)",
    ),
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Proxy:
    """A LiteLLM proxy process on loopback, with what it printed."""

    def __init__(self, config: Path, env: dict[str, str]) -> None:
        self.port = free_port()
        self.master_key = env["LITELLM_MASTER_KEY"]
        self.lines: list[str] = []
        self._ready = threading.Event()
        self.process = subprocess.Popen(
            [
                str(LITELLM),
                "--config",
                str(config),
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            env=env,
            cwd=config.parent,
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip())
            if READY in line:
                self._ready.set()
        self._ready.set()  # it exited: wait no longer

    def wait_ready(self) -> None:
        started = self._ready.wait(START_TIMEOUT) and self.process.poll() is None
        assert started, "the proxy did not start:\n" + "\n".join(self.lines[-40:])

    def post(self, path: str, body: dict[str, Any]) -> requests.Response:
        return requests.post(
            f"http://127.0.0.1:{self.port}{path}",
            json=body,
            headers={"Authorization": f"Bearer {self.master_key}"},
            timeout=60,
        )

    def get(self, path: str) -> requests.Response:
        return requests.get(
            f"http://127.0.0.1:{self.port}{path}",
            headers={"Authorization": f"Bearer {self.master_key}"},
            timeout=60,
        )

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(20)


@pytest.fixture
def keyed() -> Iterator[FakeProvider]:
    with FakeProvider(["llama-3.1-8b-instant"], api_key=KEY) as server:
        yield server


@pytest.fixture
def keyless() -> Iterator[FakeProvider]:
    with FakeProvider(["qwen3"]) as server:
        yield server


def proxy_environment(**values: str) -> dict[str, str]:
    """This environment without any provider key (the OpenAI client would fall back to
    $OPENAI_API_KEY for a provider sent none), plus ``values``."""
    env = {name: value for name, value in os.environ.items() if not name.endswith("_API_KEY")}
    env["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"  # no cost-map download at start
    env.update(values)
    return env


def chat(proxy: Proxy, model: str) -> dict[str, Any]:
    answer = proxy.post(
        "/v1/chat/completions", {"model": model, "messages": [{"role": "user", "content": "hi"}]}
    )
    assert answer.status_code == 200, (model, answer.status_code, answer.text)
    return dict(answer.json())


def test_a_litellm_proxy_starts_on_the_export_and_serves_keyed_and_keyless_providers(
    tmp_path: Path,
    keyed: FakeProvider,
    keyless: FakeProvider,
) -> None:
    store = ProviderStore(f"sqlite:///{tmp_path / 'catalog.db'}")
    store.save_config(
        "groq",
        ProviderConfig(
            name="Groq",
            base_api_url=keyed.base_url,
            api_key=KEY,
            valid_models={"llama-3.1-8b-instant": "llama8"},
        ),
    )
    store.save_config(
        "localfake",
        ProviderConfig(
            name="Local",
            base_api_url=keyless.base_url,
            valid_models={"qwen3": "qwen3"},
            options={"no_key": True},
        ),
    )
    store.set_model_metadata(
        "groq", "llama-3.1-8b-instant", input_price=0.05, deprecation_date="2026-12-31"
    )
    target = tmp_path / "litellm.yaml"
    config = litellm_config(store, target)
    store.close()
    # What the export said to set: the master key, and groq's key (the catalog holds it).
    assert [(v.name, v.provider, v.stored) for v in config.variables] == [
        ("LITELLM_MASTER_KEY", None, False),
        ("GROQ_API_KEY", "groq", True),
    ]
    env = proxy_environment(LITELLM_MASTER_KEY=f"sk-{secrets.token_hex(16)}", GROQ_API_KEY=KEY)
    proxy = Proxy(target, env)
    try:
        proxy.wait_ready()
        for model in ("groq/llama-3.1-8b-instant", "llama8", "localfake/qwen3"):
            answer = chat(proxy, model)
            assert answer["choices"][0]["message"]["content"] == "Pong!", model
        info = proxy.get("/v1/model/info")
        assert info.status_code == 200, info.text
        by_name = {item["model_name"]: item["model_info"] for item in info.json()["data"]}
        assert by_name["groq/llama-3.1-8b-instant"]["input_cost_per_token"] == 5e-08
        assert by_name["groq/llama-3.1-8b-instant"]["deprecation_date"] == "2026-12-31"
    finally:
        proxy.stop()
    chats = [r for r in keyless.requests if r.path.endswith("/chat/completions")]
    assert len(chats) == 1 and chats[0].json["model"] == "qwen3"
    # The keyless provider was sent the placeholder, never another provider's key.
    headers = {name.lower(): value for name, value in chats[0].headers.items()}
    assert headers["authorization"] == "Bearer no-key"
    assert len([r for r in keyed.requests if r.path.endswith("/chat/completions")]) == 2
    assert KEY not in "\n".join(proxy.lines)
