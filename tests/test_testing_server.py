"""The loopback FakeProvider answers like an OpenAI-compatible API and counts what it gets."""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

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


@pytest.mark.slow
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


def _chat(fake: FakeProvider, **body: object) -> requests.Response:
    return requests.post(f"{fake.base_url}/chat/completions", json=body, timeout=5)


def test_reasoning_model_refuses_max_tokens_like_openai() -> None:
    with FakeProvider(["o-think"]) as fake:
        fake.set_model_behaviour("o-think", "reasoning")
        answer = _chat(fake, model="o-think", messages=[], max_tokens=5)
        assert answer.status_code == 400
        error = answer.json()["error"]
        assert error["param"] == "max_tokens"
        assert error["code"] == "unsupported_parameter"
        assert "max_completion_tokens" in error["message"]
        refused = _chat(fake, model="o-think", messages=[], temperature=0)
        assert refused.status_code == 400
        assert refused.json()["error"]["param"] == "temperature"
        assert refused.json()["error"]["code"] == "unsupported_value"


def test_reasoning_model_spends_a_small_budget_on_reasoning() -> None:
    with FakeProvider(["o-think"]) as fake:
        fake.set_model_behaviour("o-think", "reasoning:100")
        short = _chat(fake, model="o-think", messages=[], max_completion_tokens=16).json()
        choice = short["choices"][0]
        assert choice["finish_reason"] == "length"
        assert choice["message"]["content"] == ""
        assert choice["message"]["reasoning_content"]
        assert short["usage"]["completion_tokens_details"]["reasoning_tokens"] == 16
        enough = _chat(fake, model="o-think", messages=[], max_completion_tokens=100).json()
        assert enough["choices"][0]["message"]["content"] == "pong"
        assert enough["choices"][0]["finish_reason"] == "stop"


def test_unknown_behaviours_are_refused() -> None:
    fake = FakeProvider(["m"])
    for behaviour in ("reasoning:x", "pong:1", "error:", "think"):
        with pytest.raises(ValueError):
            fake.set_model_behaviour("m", behaviour)


def test_paged_model_list_follows_after_id() -> None:
    ids = [f"m{i}" for i in range(5)]
    with FakeProvider(ids, page_size=2) as fake:
        seen: list[str] = []
        pages = 0
        params: dict[str, str] = {}
        while True:
            page = requests.get(f"{fake.base_url}/models", params=params, timeout=5).json()
            pages += 1
            seen += [item["id"] for item in page["data"]]
            assert page["first_id"] == page["data"][0]["id"]
            assert page["last_id"] == page["data"][-1]["id"]
            if not page["has_more"]:
                break
            params = {"after_id": page["last_id"]}
        assert seen == ids and pages == 3
        assert fake.requests[1].query == {"after_id": "m1"}
        # OpenAI's spelling of the cursor and a smaller limit work too
        page = requests.get(
            f"{fake.base_url}/models", params={"after": "m0", "limit": "1"}, timeout=5
        ).json()
        assert [item["id"] for item in page["data"]] == ["m1"] and page["has_more"]


def test_listed_metadata_is_part_of_the_model_item() -> None:
    with FakeProvider(["a", "b"]) as fake:
        fake.set_model_metadata("a", {"context_length": 8192, "pricing": {"prompt": "0.1"}})
        items = requests.get(f"{fake.base_url}/models", timeout=5).json()["data"]
        assert items[0]["context_length"] == 8192 and items[0]["pricing"] == {"prompt": "0.1"}
        assert items[0]["id"] == "a" and "context_length" not in items[1]
        with pytest.raises(ValueError):
            fake.set_model_metadata("a", {"id": "other"})


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.slow
def test_process_honours_port_page_size_and_metadata() -> None:
    port = _free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "provider_store.testing",
            "--port",
            str(port),
            "--models",
            "a,b,c",
            "--page-size",
            "2",
            "--behaviour",
            "c=reasoning",
            "--metadata",
            'a={"context_length": 4096}',
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        base_url = server.stdout.readline().strip()
        assert base_url == f"http://127.0.0.1:{port}/v1"
        page = requests.get(f"{base_url}/models", timeout=5).json()
        assert [item["id"] for item in page["data"]] == ["a", "b"] and page["has_more"]
        assert page["data"][0]["context_length"] == 4096
        refused = requests.post(
            f"{base_url}/chat/completions", json={"model": "c", "max_tokens": 1}, timeout=5
        )
        assert refused.json()["error"]["code"] == "unsupported_parameter"
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.mark.slow
def test_process_rejects_bad_metadata() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "provider_store.testing", "--metadata", "a=[1]"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2 and "--metadata takes MODEL=<JSON object>" in result.stderr


def test_peak_in_flight_counts_requests_answered_at_one_time() -> None:
    with FakeProvider(["a"], latency=0.3) as fake:
        url = fake.base_url + "/models"
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(lambda _: requests.get(url, timeout=5), range(4)))
        assert fake.peak_in_flight == 4
        fake.reset_counts()
        requests.get(url, timeout=5)
        requests.get(url, timeout=5)
        assert fake.peak_in_flight == 1
