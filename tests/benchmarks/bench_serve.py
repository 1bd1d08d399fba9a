"""``provider-store serve`` on a catalog of 50 providers x 200 models, and LiteLLM's proxy
holding the same 10,000 models, side by side in one run.

Run: ``.venv/bin/python tests/benchmarks/bench_serve.py [--requests N] [--clients C]``
(not collected by pytest). LiteLLM's proxy is measured when ``.venv-litellm/bin/litellm``
exists (``make litellm-proxy``; ``$PROVIDER_STORE_TEST_LITELLM`` names another one).

The catalog (a SQLite file) has listed metadata on every model (context, output limit, prices,
capabilities). The server runs as its own process, started as a user would
(``provider-store --db FILE serve --port 0``). C client threads, each on one keep-alive
connection, send N requests in all per case and time each one: ``GET /v1/models`` (the full
list of 10,000 extended entries), the same with ``Accept-Encoding: gzip`` (timed to the last
byte, not unzipped), the same with ``If-None-Match`` (a 304), ``GET /v1/resolve``
over a mix of ``provider/model``, ``provider/alias``, bare aliases and misses; then
``GET /v1/models`` of the LiteLLM proxy started on the catalog's exported config (master key,
``LITELLM_LOCAL_MODEL_COST_MAP``). Printed per case: requests per second, p50 and p99 in ms,
and the answer's size. Goals: a 304 under 2 ms p99, a full list under 50 ms p99, ahead of the
LiteLLM proxy.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from provider_store import ProviderConfig, ProviderStore, litellm_config
from provider_store.model_info import ModelInfo

PROVIDERS = 50
PER_PROVIDER = 200
ROOT = Path(__file__).resolve().parents[2]
LITELLM = Path(
    os.environ.get("PROVIDER_STORE_TEST_LITELLM") or ROOT / ".venv-litellm" / "bin" / "litellm"
)
LITELLM_START_TIMEOUT = 600.0
LITELLM_REQUEST_TIMEOUT = 900.0  # seconds one /v1/models of the proxy may take
LITELLM_BUDGET = 120.0  # seconds of requests to the proxy after the first


def build_catalog(path: Path) -> ProviderStore:
    """50 providers x 200 valid models, each with listed metadata, in one transaction each."""
    store = ProviderStore(f"sqlite:///{path}")
    for p in range(PROVIDERS):
        key = f"prov{p}"
        models = {f"vendor{p}/model-{p}-{i}": f"m{p}x{i}" for i in range(PER_PROVIDER)}
        with store.transaction() as session:
            store.save_config(
                key,
                ProviderConfig(
                    name=f"Provider {p}",
                    base_api_url=f"http://127.0.0.1:9/p{p}/v1",
                    api_key="sk-bench-0123456789",
                    valid_models=models,
                ),
                session=session,
            )
            store.rows.write_model_infos(
                key,
                [
                    ModelInfo(
                        id=model_id,
                        context_length=8192 * (1 + i % 16),
                        max_output_tokens=4096,
                        input_price=0.15 + i / 100,
                        output_price=0.6 + i / 50,
                        capabilities=("chat", "tools") if i % 2 else ("chat",),
                    )
                    for i, model_id in enumerate(models)
                ],
                session=session,
            )
    return store


def start_server(db: Path) -> tuple[subprocess.Popen[str], str, int]:
    process = subprocess.Popen(
        [sys.executable, "-m", "provider_store", "--db", str(db), "serve", "--port", "0"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    line = process.stderr.readline()
    assert line.startswith("Serving http://"), line + process.stderr.read()
    host, port = line.split()[1].removeprefix("http://").rsplit(":", 1)
    return process, host, int(port)


def measure(
    host: str,
    port: int,
    paths: list[str],
    headers: dict[str, str],
    requests: int,
    clients: int,
    expect: int,
) -> tuple[float, list[float], int]:
    """(requests per second, latencies in s, bytes of the last answer) of ``requests``
    requests over ``clients`` threads, each on its own keep-alive connection."""
    latencies: list[float] = []
    sizes = [0]
    lock = threading.Lock()
    per_client = requests // clients
    barrier = threading.Barrier(clients + 1)
    failures: list[str] = []

    def client(n: int) -> None:
        conn = http.client.HTTPConnection(host, port, timeout=LITELLM_REQUEST_TIMEOUT)
        mine: list[float] = []
        rng = random.Random(n)
        # One request to connect (not timed).
        try:
            conn.request("GET", paths[0], headers=headers)
            conn.getresponse().read()
        except (OSError, http.client.HTTPException) as exc:
            failures.append(f"first request: {exc!r}")
        barrier.wait()
        if failures:
            return
        try:
            timed(conn, rng, mine)
        except (OSError, http.client.HTTPException) as exc:
            failures.append(repr(exc))
        conn.close()
        with lock:
            latencies.extend(mine)

    def timed(conn: http.client.HTTPConnection, rng: random.Random, mine: list[float]) -> None:
        for _ in range(per_client):
            path = paths[rng.randrange(len(paths))]
            started = time.perf_counter()
            conn.request("GET", path, headers=headers)
            answer = conn.getresponse()
            body = answer.read()
            mine.append(time.perf_counter() - started)
            if answer.status != expect and not (expect == 200 and answer.status == 404):
                failures.append(f"{path}: {answer.status}")
            sizes[0] = len(body)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if failures:
        raise RuntimeError(f"{len(failures)} failed: {failures[:3]}")
    return len(latencies) / elapsed, latencies, sizes[0]


def report(name: str, result: tuple[float, list[float], int], goal: str = "") -> None:
    rate, latencies, size = result
    cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    p50, p99 = cuts[49] * 1000, cuts[98] * 1000
    print(
        f"{name:<34} {rate:9.1f} req/s   p50 {p50:8.2f} ms   p99 {p99:8.2f} ms"
        f"   {size:>10,} bytes  {goal}"
    )


def resolve_paths(rng: random.Random) -> list[str]:
    out = []
    for n in range(2000):
        p, i = rng.randrange(PROVIDERS), rng.randrange(PER_PROVIDER)
        out.append(
            [
                f"/v1/resolve?model=prov{p}/vendor{p}/model-{p}-{i}",
                f"/v1/resolve?model=prov{p}/m{p}x{i}",
                f"/v1/resolve?model=m{p}x{i}",
                f"/v1/resolve?model=vendor{p}/model-{p}-{i}",
                f"/v1/resolve?model=no-such-model-{n}",
            ][n % 5]
        )
    return out


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def litellm_case(store: ProviderStore, tmp: Path, requests: int, clients: int) -> None:
    if not LITELLM.exists():
        print(f"{'LiteLLM proxy /v1/models':<34} skipped: no {LITELLM} (make litellm-proxy)")
        return
    config = tmp / "litellm.yaml"
    litellm_config(store, config)
    master = "sk-" + secrets.token_hex(16)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    env.update(LITELLM_LOCAL_MODEL_COST_MAP="True", LITELLM_MASTER_KEY=master)
    started = time.monotonic()
    process = subprocess.Popen(
        [str(LITELLM), "--config", str(config), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        env=env,
        cwd=tmp,
    )
    lines: list[str] = []
    ready = threading.Event()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line.rstrip())
            if "Uvicorn running on" in line:
                ready.set()
        ready.set()

    threading.Thread(target=read, daemon=True).start()
    try:
        if not ready.wait(LITELLM_START_TIMEOUT) or process.poll() is not None:
            print("LiteLLM proxy did not start:\n" + "\n".join(lines[-20:]))
            return
        print(f"(LiteLLM proxy started in {time.monotonic() - started:.1f} s)")
        headers = {"Authorization": f"Bearer {master}"}
        # One request alone first: its answer time decides how many more fit in the budget.
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=LITELLM_REQUEST_TIMEOUT)
        try:
            begun = time.perf_counter()
            conn.request("GET", "/v1/models", headers=headers)
            answer = conn.getresponse()
            body = answer.read()
            first = time.perf_counter() - begun
        except TimeoutError:
            print(f"{'LiteLLM proxy /v1/models':<34} no answer in {LITELLM_REQUEST_TIMEOUT:.0f} s")
            return
        finally:
            conn.close()
        assert answer.status == 200, (answer.status, body[:200])
        print(
            f"{'LiteLLM proxy /v1/models (one)':<34} {1 / first:9.2f} req/s   one request"
            f" {first * 1000:8.1f} ms   {len(body):>10,} bytes"
        )
        count = int(min(requests, max(clients, LITELLM_BUDGET / first)))
        count -= count % clients
        if count >= 2 * clients:
            try:
                result = measure("127.0.0.1", port, ["/v1/models"], headers, count, clients, 200)
            except RuntimeError as exc:
                print(f"{'LiteLLM proxy /v1/models':<34} {clients} concurrent clients: {exc}")
            else:
                report("LiteLLM proxy /v1/models", result, f"({count} requests)")
        else:
            print(
                f"{'LiteLLM proxy /v1/models':<34} too slow to time {clients} clients in the budget"
            )
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--no-litellm", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        started = time.perf_counter()
        store = build_catalog(tmp / "catalog.db")
        print(
            f"catalog: {PROVIDERS} providers x {PER_PROVIDER} models"
            f" (built in {time.perf_counter() - started:.1f} s);"
            f" {args.clients} concurrent clients, {args.requests} requests per case"
        )
        process, host, port = start_server(tmp / "catalog.db")
        try:
            conn = http.client.HTTPConnection(host, port)
            conn.request("GET", "/v1/models")
            answer = conn.getresponse()
            answer.read()
            etag = answer.getheader("etag") or ""
            conn.close()
            full = measure(host, port, ["/v1/models"], {}, args.requests, args.clients, 200)
            report("serve /v1/models (full)", full, "goal: p99 < 50 ms")
            zipped = measure(
                host,
                port,
                ["/v1/models"],
                {"Accept-Encoding": "gzip"},
                args.requests,
                args.clients,
                200,
            )
            report("serve /v1/models (full, gzip)", zipped, "(body not unzipped)")
            cached = measure(
                host,
                port,
                ["/v1/models"],
                {"If-None-Match": etag},
                args.requests * 5,
                args.clients,
                304,
            )
            report("serve /v1/models (304)", cached, "goal: p99 < 2 ms")
            paths = resolve_paths(random.Random(1))
            resolved = measure(host, port, paths, {}, args.requests * 5, args.clients, 200)
            report("serve /v1/resolve", resolved)
        finally:
            process.terminate()
            process.wait(10)
        if not args.no_litellm:
            litellm_case(store, tmp, args.requests, args.clients)
        store.close()


if __name__ == "__main__":
    main()
