"""The loopback FakeProvider answers like an OpenAI-compatible API and counts what it gets."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import requests

from provider_store.testing import FakeProvider


def test_models_and_chat_routes_answer_like_openai() -> None:
    with FakeProvider(["a", "b"]) as fake:
        assert fake.base_url.startswith("http://127.0.0.1:") and fake.base_url.endswith("/v1")
        listed = requests.get(f"{fake.base_url}/models", timeout=5).json()
        assert [m["id"] for m in listed["data"]] == ["a", "b"]
        chat = requests.post(
            f"{fake.base_url}/chat/completions", json={"model": "a", "messages": []}, timeout=5
        )
        assert "pong" in chat.json()["choices"][0]["message"]["content"].lower()
        assert fake.request_count() == 2
        assert fake.request_count("/models") == 1
        assert fake.request_count("/v1/chat/completions") == 1
        assert fake.requests[1].json == {"model": "a", "messages": []}
        fake.reset_counts()
        assert fake.request_count() == 0


@pytest.mark.parametrize(
    ("behaviour", "status", "needle"),
    [
        ("refuse", 400, "not a chat model"),
        ("silent", 200, "How can I help"),
        ("error:429", 429, "fake error 429"),
        ("error:503", 503, "fake error 503"),
    ],
)
def test_model_behaviours(behaviour: str, status: int, needle: str) -> None:
    with FakeProvider(["m"]) as fake:
        fake.set_model_behaviour("m", behaviour)
        answer = requests.post(f"{fake.base_url}/chat/completions", json={"model": "m"}, timeout=5)
        assert answer.status_code == status
        assert needle in answer.text


def test_unknown_model_is_404_and_a_timeout_model_hangs() -> None:
    with FakeProvider(["m"], hang_seconds=2) as fake:
        answer = requests.post(f"{fake.base_url}/chat/completions", json={"model": "x"}, timeout=5)
        assert answer.status_code == 404
        fake.set_model_behaviour("m", "timeout")
        with pytest.raises(requests.ReadTimeout):
            requests.post(f"{fake.base_url}/chat/completions", json={"model": "m"}, timeout=0.2)


def test_api_key_is_enforced_when_given() -> None:
    with FakeProvider(["m"], api_key="sk-right") as fake:
        url = f"{fake.base_url}/models"
        assert requests.get(url, timeout=5).status_code == 401
        ok = requests.get(url, headers={"Authorization": "Bearer sk-right"}, timeout=5)
        assert ok.status_code == 200


def test_failures_can_be_limited_to_the_next_requests() -> None:
    with FakeProvider(["m"]) as fake:
        fake.set_failure("error:503", retry_after=1, times=1)
        first = requests.get(f"{fake.base_url}/models", timeout=5)
        assert first.status_code == 503 and first.headers["Retry-After"] == "1"
        assert requests.get(f"{fake.base_url}/models", timeout=5).status_code == 200
        fake.set_failure("html")
        assert "<html>" in requests.get(f"{fake.base_url}/models", timeout=5).text
        fake.set_failure(None)
        assert requests.get(f"{fake.base_url}/models", timeout=5).json()["data"]
        with pytest.raises(ValueError):
            fake.set_failure("nonsense")
        with pytest.raises(ValueError):
            fake.set_model_behaviour("m", "nonsense")


def test_runs_as_a_process_printing_its_base_url_first() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "provider_store.testing", "--models", "a,b", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        base_url = proc.stdout.readline().strip()
        assert base_url.startswith("http://127.0.0.1:")
        listed = json.loads(requests.get(f"{base_url}/models", timeout=5).text)
        assert [m["id"] for m in listed["data"]] == ["a", "b"]
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) == 0
