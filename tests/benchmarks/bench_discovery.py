"""Concurrent discover-and-validate: 20 loopback providers x 10 models, 200 ms per request.

Run: ``.venv/bin/python tests/benchmarks/bench_discovery.py [--sequential] [--in-process]`` (not
collected by pytest). The fake providers run as separate processes
(``python -m provider_store.testing``) so that, as with real remote providers, serving requests
does not compete with the client for this process's GIL; ``--in-process`` runs them as threads
here instead. Prints the concurrent wall time (best of 3) next to

- the critical path: one ``/models`` call plus the pings of one provider at the per-provider
  bound (``ceil(models / per_provider)`` rounds), i.e. the best any schedule can do; computed
  from the nominal latency, and measured by discovering one provider alone;
- the one-request-at-a-time cost: estimated as requests x latency, and measured with
  ``--sequential`` (bounds of 1, providers one after another; takes about 45 s).

Target: wall time within 1.5x of the critical path.

Then the same run at the library's default bounds and at 80 overall / 4 per provider, each as a
ratio to its bound-limited floor: one ``/models`` round plus ``max(ceil(models / per_provider),
ceil(all pings / concurrency))`` ping rounds (targets: <= 1.2x at the defaults, <= 1.3x at 80/4),
next to the same requests sent by plain ``requests`` + threads with the same bounds, which shows
what this machine allows (on a busy machine neither reaches the floor).

``--baseline DIR`` measures before and after in one run: DIR is another checkout of the project
(e.g. ``git worktree add /tmp/base main``). Worker processes, one running DIR's code and one this
checkout's, take turns ``--rounds`` times (the order alternates, so load drifts over both alike)
against the same fake providers; each measures every figure ``--runs`` times. Printed for each:
the median and the best run, and the ratios to the critical path and the floors; the targets are
judged on this checkout's best runs, as without ``--baseline``.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

# A worker measuring another checkout imports that checkout's package (see --baseline).
CODE_ENV = "BENCH_DISCOVERY_CODE"
if os.environ.get(CODE_ENV):
    sys.path.insert(0, os.environ[CODE_ENV])

from provider_store import ProviderConfig, ProviderManager, ProviderStore  # noqa: E402
from provider_store.rules.limits import DEFAULT_CONCURRENCY, DEFAULT_PER_PROVIDER  # noqa: E402
from provider_store.testing import FakeProvider  # noqa: E402

PROVIDERS = 20
MODELS = 10
LATENCY = 0.2
PER_PROVIDER = 5
CONCURRENCY = PROVIDERS * PER_PROVIDER


@contextmanager
def fake_servers(in_process: bool) -> Iterator[list[str]]:
    """Base URLs of PROVIDERS fake providers, as threads here or as separate processes."""
    models = [f"m{i}" for i in range(MODELS)]
    with ExitStack() as stack:
        if in_process:
            yield [
                stack.enter_context(FakeProvider(models, latency=LATENCY)).base_url
                for _ in range(PROVIDERS)
            ]
            return
        command = [sys.executable, "-m", "provider_store.testing", "--models", ",".join(models)]
        procs = [
            subprocess.Popen(
                [*command, "--latency", str(LATENCY)], stdout=subprocess.PIPE, text=True
            )
            for _ in range(PROVIDERS)
        ]
        for proc in procs:
            stack.callback(proc.wait, 10)
            stack.callback(proc.terminate)
        yield [(proc.stdout.readline() if proc.stdout else "").strip() for proc in procs]


def fresh_manager(path: Path, urls: list[str]) -> ProviderManager:
    """A new SQLite catalog with one provider per fake server (no cache, no verdicts)."""
    store = ProviderStore(f"sqlite:///{path}")
    with store.transaction() as session:
        for n, url in enumerate(urls):
            config = ProviderConfig(name=f"Bench {n}", base_api_url=url, api_key="sk-b")
            store.save_config(f"bench{n}", config, session=session)
    return ProviderManager(store=store)


def run_concurrent(
    manager: ProviderManager,
    concurrency: int | None = CONCURRENCY,
    per_provider: int = PER_PROVIDER,
) -> float:
    """Discover and validate everything at once; the wall time in seconds."""
    started = time.perf_counter()
    report = manager.discover(
        force_refresh=True, concurrency=concurrency, per_provider=per_provider
    )
    elapsed = time.perf_counter() - started
    assert report.ok and report.persisted, report.as_dict()
    assert sum(s.valid for s in report.providers) == PROVIDERS * MODELS
    return elapsed


def run_one(manager: ProviderManager) -> float:
    """Discover and validate a single provider alone: the measured critical path."""
    started = time.perf_counter()
    report = manager.discover(force_refresh=True, per_provider=PER_PROVIDER)
    assert report.ok, report.as_dict()
    return time.perf_counter() - started


def run_sequential(manager: ProviderManager) -> float:
    """The same work one request at a time: providers one after another, bounds of 1."""
    started = time.perf_counter()
    for key in manager.get_all_provider_names():
        report = manager.discover(force_refresh=True, provider=key, concurrency=1, per_provider=1)
        assert report.ok, report.as_dict()
    return time.perf_counter() - started


def run_plain(urls: list[str], concurrency: int, per_provider: int) -> float:
    """The same requests with plain requests + threads and the same bounds (a reference)."""
    import threading
    from concurrent.futures import ThreadPoolExecutor, wait

    import requests

    local = threading.local()
    headers = {"Authorization": "Bearer sk-b"}

    def session() -> requests.Session:
        if not hasattr(local, "session"):
            local.session = requests.Session()
        return local.session  # type: ignore[no-any-return]

    def ping(url: str, model: str) -> None:
        body = {"model": model, "messages": [{"role": "user", "content": "ping"}]}
        session().post(f"{url}/chat/completions", json=body, headers=headers, timeout=10).json()

    pings = ThreadPoolExecutor(concurrency)

    def one(url: str) -> None:
        listing = session().get(f"{url}/models", headers=headers, timeout=10).json()
        slots = threading.BoundedSemaphore(per_provider)
        futures = []
        for item in listing["data"]:
            slots.acquire()
            future = pings.submit(ping, url, item["id"])
            future.add_done_callback(lambda _f: slots.release())
            futures.append(future)
        wait(futures)

    started = time.perf_counter()
    with ThreadPoolExecutor(len(urls)) as discoverers:
        list(discoverers.map(one, urls))
    elapsed = time.perf_counter() - started
    pings.shutdown()
    return elapsed


def floor(concurrency: int, per_provider: int) -> float:
    """The bound-limited floor: one /models round, then the ping rounds the bounds allow."""
    rounds = max(math.ceil(MODELS / per_provider), math.ceil(PROVIDERS * MODELS / concurrency))
    return LATENCY * (1 + rounds)


BOUNDS = ((DEFAULT_CONCURRENCY, DEFAULT_PER_PROVIDER), (80, 4))
TARGET_CRITICAL = 1.5


def target_of(bounds: tuple[int, int]) -> float:
    """The target ratio to the floor: 1.2x at the library's defaults, 1.3x at 80/4."""
    return 1.2 if bounds == (DEFAULT_CONCURRENCY, 4) else 1.3


def measure(urls: list[str], runs: int, tmp: Path) -> dict[str, list[float]]:
    """Every figure of this code, ``runs`` times each: name -> seconds of each run.

    One untimed run comes first: a new process's first run also pays for its lazy imports.
    """
    run_concurrent(fresh_manager(tmp / "warm-up.db", urls))
    figures: dict[str, list[float]] = {"concurrent": [], "alone": []}
    figures.update({f"{c}/{p}": [] for c, p in BOUNDS})
    for n in range(runs):
        figures["concurrent"].append(run_concurrent(fresh_manager(tmp / f"c{n}.db", urls)))
        for bounds in BOUNDS:
            manager = fresh_manager(tmp / f"b{bounds[0]}-{n}.db", urls)
            figures["{}/{}".format(*bounds)].append(run_concurrent(manager, *bounds))
        figures["alone"].append(run_one(fresh_manager(tmp / f"one{n}.db", urls[:1])))
    return figures


def worker(urls: list[str], runs: int) -> int:
    """Measure this process's code against running fake providers; the figures as JSON."""
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        print(json.dumps(measure(urls, runs, Path(tmp))))
    return 0


def in_turns(
    urls: list[str], baseline: str, rounds: int, runs: int
) -> dict[str, dict[str, list[float]]]:
    """Workers of the baseline checkout and of this one, taking turns: label -> figures."""
    here = str(Path(__file__).resolve().parents[2])
    codes = {"before": str(Path(baseline).resolve()), "after": here}
    figures: dict[str, dict[str, list[float]]] = {label: {} for label in codes}
    for r in range(rounds):
        order = list(codes) if r % 2 == 0 else list(reversed(codes))
        for label in order:
            env = {**os.environ, CODE_ENV: codes[label]}
            command = [sys.executable, __file__, "--worker", ",".join(urls), "--runs", str(runs)]
            done = subprocess.run(
                command, env=env, cwd=codes[label], capture_output=True, text=True, check=True
            )
            for name, seconds in json.loads(done.stdout.splitlines()[-1]).items():
                figures[label].setdefault(name, []).extend(seconds)
    return figures


def summary(seconds: list[float]) -> str:
    return f"median {statistics.median(seconds):5.2f} s, best {min(seconds):5.2f} s"


def report(
    figures: dict[str, list[float]], plain: dict[tuple[int, int], float], label: str = ""
) -> bool:
    """Print one code's figures and ratios; True when every target is met (best runs)."""
    critical = LATENCY * (1 + math.ceil(MODELS / PER_PROVIDER))
    runs = figures["concurrent"]
    wall, typical, alone = min(runs), statistics.median(runs), min(figures["alone"])
    head = f"[{label}] " if label else ""
    print(f"{head}concurrent wall time   : {summary(runs)}  ({len(runs)} runs)")
    print(f"{head}critical path (measured): {alone:5.2f} s  (one provider discovered alone, best)")
    ratio = wall / critical
    met = ratio <= TARGET_CRITICAL
    print(
        f"{head}wall / nominal path    : {ratio:6.2f}x best, {typical / critical:4.2f}x median "
        f"(target <= {TARGET_CRITICAL}x) -> {'met' if met else 'NOT met'}"
    )
    print(f"{head}wall / measured path   : {wall / alone:6.2f}x best")
    for bounds in BOUNDS:
        concurrency, per_provider = bounds
        seconds = figures[f"{concurrency}/{per_provider}"]
        low = floor(concurrency, per_provider)
        target = target_of(bounds)
        ok = min(seconds) / low <= target
        met = met and ok
        reference = plain[bounds]
        print(
            f"{head}bounds {concurrency:3d}/{per_provider}: {summary(seconds)}, floor {low:4.2f} s"
            f" -> {min(seconds) / low:4.2f}x best, {statistics.median(seconds) / low:4.2f}x median"
            f" (target <= {target}x) -> {'met' if ok else 'NOT met'}; plain requests+threads"
            f" {reference:4.2f} s = {reference / low:4.2f}x"
        )
    return met


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sequential", action="store_true", help="also measure one at a time")
    parser.add_argument("--in-process", action="store_true", help="serve from threads here")
    parser.add_argument("--baseline", metavar="DIR", help="also measure the checkout in DIR")
    parser.add_argument("--rounds", type=int, default=3, help="turns of each code (--baseline)")
    parser.add_argument("--runs", type=int, default=3, help="runs of each figure per turn")
    parser.add_argument("--worker", metavar="URLS", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker(args.worker.split(","), args.runs)
    logging.basicConfig(level=logging.WARNING)
    requests = PROVIDERS * (1 + MODELS)
    with fake_servers(args.in_process) as urls, tempfile.TemporaryDirectory() as tmp:
        if args.baseline:
            figures = in_turns(urls, args.baseline, args.rounds, args.runs)
        else:
            figures = {"after": measure(urls, args.runs, Path(tmp))}
        plain = {
            bounds: min(run_plain(urls, *bounds) for _ in range(3))
            for bounds in ((CONCURRENCY, PER_PROVIDER), *BOUNDS)
        }
        sequential = (
            run_sequential(fresh_manager(Path(tmp) / "seq.db", urls)) if args.sequential else None
        )
    print(
        f"{PROVIDERS} providers x {MODELS} models, {LATENCY * 1000:.0f} ms per request, "
        f"per-provider bound {PER_PROVIDER}, global bound {CONCURRENCY}"
    )
    where = "threads in this process" if args.in_process else "separate processes"
    print(f"fake providers         : {where}")
    critical = LATENCY * (1 + math.ceil(MODELS / PER_PROVIDER))
    rounds = f"1 /models + {MODELS} pings at {PER_PROVIDER}"
    print(f"critical path (nominal): {critical:6.2f} s  ({rounds})")
    print(f"sequential (estimate)  : {requests * LATENCY:6.2f} s  ({requests} requests x latency)")
    if sequential is not None:
        print(f"sequential (measured)  : {sequential:6.2f} s")
    print(f"plain requests+threads : {plain[(CONCURRENCY, PER_PROVIDER)]:6.2f} s  (same bounds)")
    if not args.baseline:
        return 0 if report(figures["after"], plain) else 1
    print(f"before: {args.baseline}; after: this checkout ({args.rounds} turns each, in turns)")
    report(figures["before"], plain, "before")
    met = report(figures["after"], plain, "after")
    print("after / before (medians):")
    for name in figures["after"]:
        before = statistics.median(figures["before"][name])
        after = statistics.median(figures["after"][name])
        print(f"  {name:<10}: {before:5.2f} s -> {after:5.2f} s  ({after / before:4.2f}x)")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
