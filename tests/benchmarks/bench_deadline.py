"""The deadline as a wall-clock promise, measured against a provider dripping one byte a second.

Run: ``.venv/bin/python tests/benchmarks/bench_deadline.py [--skip-library]`` (not collected by
pytest; takes about a minute). Prints

- ``provider-store discover --force-refresh --deadline 5`` as a real process against a loopback
  provider that drips its status line, its headers or its body: exit code, wall time, the run's
  own ``seconds`` and where the list came from (target: exit 1 in under 7 s, source ``stale``),
  next to the start-up cost of a quick command on this machine;
- the library's default deadline: ``ModelDiscoveryService(store).discover`` with its own default
  ``ProviderClient`` against a dripping body (target: within about a second of the default);
- the cost of masking the key in a 300-character excerpt and in a 2 MB text.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from drip_server import DripServer  # noqa: E402

from provider_store import ProviderConfig, ProviderStore  # noqa: E402
from provider_store.discovery.service import ModelDiscoveryService  # noqa: E402
from provider_store.providers.http_responses import scrub  # noqa: E402

KEY = "sk-PROJECT-12345-problem"


def _cli(args: list[str], env: dict[str, str]) -> tuple[int, float, str]:
    exe = Path(sys.executable).with_name("provider-store")
    command = [str(exe)] if exe.exists() else [sys.executable, "-m", "provider_store"]
    started = time.monotonic()
    done = subprocess.run(
        [*command, *args], capture_output=True, text=True, env=env, check=False, timeout=600
    )
    return done.returncode, time.monotonic() - started, done.stdout


def bench_cli(url: str, drip: DripServer) -> None:
    env = {**os.environ, "PROVIDER_STORE_URL": url}
    drip.drip = None
    code, start_up, _ = _cli(["discover", "--no-validate", "--json"], env)
    print(f"start-up: a quick discover (cache filled) took {start_up:.2f} s, exit {code}")
    for part in ("status", "headers", "body"):
        drip.drip = part
        code, elapsed, out = _cli(
            ["discover", "--force-refresh", "--no-validate", "--deadline", "5", "--json"], env
        )
        report = json.loads(out)
        summary = report["providers"][0]
        print(
            f"drip {part:<7}: discover --deadline 5 exit {code} in {elapsed:.2f} s wall "
            f"(run {report['seconds']:.2f} s), status {summary['status']}, "
            f"source {summary['source']}, {summary['discovered']} models served"
        )


def bench_library(url: str, drip: DripServer) -> None:
    store = ProviderStore(url)
    try:
        with ModelDiscoveryService(store) as service:
            config = store.get_config("drippy")
            drip.drip = "body"
            started = time.monotonic()
            result = service.discover(config, force_refresh=True)
            elapsed = time.monotonic() - started
            print(
                f"library default deadline {service.client.deadline:g} s: discover returned "
                f"{result.source.value} ({len(result.models)} models) after {elapsed:.2f} s"
            )
    finally:
        store.close()


def bench_scrub() -> None:
    excerpt = (
        f"Incorrect API key provided: {KEY[:-3]}. You can find your key in the dashboard. " * 4
    )
    started = time.perf_counter()
    for _ in range(1000):
        scrub(excerpt[:300], KEY)
    per_call = (time.perf_counter() - started) / 1000
    big = "x" * 1_000_000 + KEY[:-3] + "y" * 1_000_000
    started = time.perf_counter()
    scrub(big, KEY)
    print(
        f"scrub: {per_call * 1e6:.0f} us per 300-char excerpt, "
        f"{time.perf_counter() - started:.3f} s for a 2 MB text"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-library", action="store_true", help="skip the 30 s library run")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, DripServer(["alpha", "beta"], interval=1.0) as drip:
        url = f"sqlite:///{tmp}/catalog.db"
        store = ProviderStore(url)
        store.save_config(
            "drippy", ProviderConfig(name="Drippy", base_api_url=drip.base_url, api_key=KEY)
        )
        store.close()
        bench_cli(url, drip)
        if not args.skip_library:
            bench_library(url, drip)
    bench_scrub()


if __name__ == "__main__":
    main()
