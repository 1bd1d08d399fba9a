"""Adaptive pings on a 200-model reasoning catalog: what the remembered request style saves.

Run: ``.venv/bin/python tests/benchmarks/bench_pings.py`` (not collected by pytest). A loopback
provider answers like OpenAI's reasoning models, 20 ms per request: 100 models refuse
``max_tokens`` then ``temperature`` (3 requests to a pong), 50 also refuse the system message
(4 requests), 50 spend a 10-token budget thinking (2 requests). A second provider rejects the key.

Prints, for a first and a second forced run (no verdict reuse), the chat requests sent and the
wall time, and their ratio; and the requests a 200-model provider with a rejected key costs.

Target: the second run sends one request per model; a rejected key costs one request.
"""

from __future__ import annotations

import json
import logging
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from provider_store import ModelDiscoveryService, ProviderConfig, ProviderStore
from provider_store.discovery.run import run_discovery
from provider_store.discovery.run_report import DiscoveryOptions

LATENCY = 0.02
MODELS = [f"gpt-5-{i:03d}" for i in range(100)] + [f"o1-{i:03d}" for i in range(50)]
MODELS += [f"thinker-{i:03d}" for i in range(50)]


def reply_for(model: str, payload: dict[str, Any], key_ok: bool) -> tuple[int, dict[str, Any]]:
    """The provider's answer to one chat request."""
    if not key_ok:
        return 401, {"error": {"message": "Incorrect API key provided", "code": "invalid_api_key"}}
    refusal = {"type": "invalid_request_error", "code": "unsupported_parameter"}
    if model.startswith(("gpt-5", "o1")) and "max_tokens" in payload:
        return 400, {
            "error": {
                **refusal,
                "param": "max_tokens",
                "message": "Unsupported parameter: 'max_tokens' is not supported with this model.",
            }
        }
    if model.startswith(("gpt-5", "o1")) and "temperature" in payload:
        return 400, {
            "error": {
                **refusal,
                "param": "temperature",
                "message": "Unsupported value: 'temperature' does not support 0.1 with this model.",
            }
        }
    if model.startswith("o1") and payload["messages"][0]["role"] == "system":
        return 400, {
            "error": {
                **refusal,
                "param": "messages[0].role",
                "message": "Unsupported value: 'messages[0].role' does not support 'system'.",
            }
        }
    budget = payload.get("max_completion_tokens") or payload.get("max_tokens") or 0
    if model.startswith("thinker") and budget < 100:
        content, finish = "", "length"
    else:
        content, finish = "pong", "stop"
    message = {"role": "assistant", "content": content}
    return 200, {"choices": [{"index": 0, "message": message, "finish_reason": finish}]}


class Provider:
    """A threaded loopback provider counting chat requests."""

    def __init__(self, key_ok: bool) -> None:
        self.chats = 0
        self.lock = threading.Lock()
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

            def send(self, status: int, body: Any) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # noqa: N802
                self.send(200, {"data": [{"id": m} for m in MODELS]})

            def do_POST(self) -> None:  # noqa: N802
                payload = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with provider.lock:
                    provider.chats += 1
                time.sleep(LATENCY)
                self.send(*reply_for(payload["model"], payload, key_ok))

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"


def timed_run(store: ProviderStore, service: ModelDiscoveryService, key: str) -> float:
    options = DiscoveryOptions.build(force_refresh=True, per_provider=8)
    configs = {key: store.get_config(key)}
    started = time.perf_counter()
    report = run_discovery(configs, service, options, store=store)
    assert report.ok, report.as_dict()
    return time.perf_counter() - started


def main() -> None:
    logging.basicConfig(level=logging.ERROR)
    good, bad = Provider(key_ok=True), Provider(key_ok=False)
    with tempfile.TemporaryDirectory() as tmp:
        store = ProviderStore(f"sqlite:///{Path(tmp) / 'catalog.db'}")
        store.save_config("reasoning", ProviderConfig(base_api_url=good.base_url, api_key="k"))
        store.save_config("badkey", ProviderConfig(base_api_url=bad.base_url, api_key="k"))
        with ModelDiscoveryService(store) as service:
            first = timed_run(store, service, "reasoning")
            first_requests, good.chats = good.chats, 0
            second = timed_run(store, service, "reasoning")
            timed_run(store, service, "badkey")
        store.close()
    print(f"models: {len(MODELS)}, {LATENCY * 1000:.0f} ms per request, 8 pings in flight")
    print(f"first run:  {first_requests:4d} chat requests, {first:.2f} s")
    print(f"second run: {good.chats:4d} chat requests, {second:.2f} s")
    print(
        f"ratio first/second: requests {first_requests / good.chats:.2f}x, "
        f"time {first / second:.2f}x"
    )
    print(f"rejected key: {bad.chats} chat request(s) for {len(MODELS)} models")


if __name__ == "__main__":
    main()
