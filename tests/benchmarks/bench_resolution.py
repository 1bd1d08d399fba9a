"""Resolution latency on a 110,000-model SQLite catalog versus a 10-model one.

Run: ``.venv/bin/python tests/benchmarks/bench_resolution.py`` (not collected by pytest).

Each catalog is written with bulk inserts (one transaction, ``save_config`` per provider, which
inserts its models with one executemany), opened with ``ProviderManager(store=...)``, and then
queried with the same mix of model strings: prefixed long ids, prefixed aliases, bare ids (with a
slash inside), bare aliases, case-insensitive matches and misses for
``get_api_for_model_string``; exact ids, substrings and misses for ``find_model``.
Target: the large catalog's p50 and p99 within 3x of the small one's. Also printed, with no
target: near misses (a typo'd id) caught without reading the error, and with its message read
(which names the nearest models: they are searched for only then).
"""

from __future__ import annotations

import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from provider_store import ProviderConfig, ProviderManager, ProviderStore

QUERIES = 4000


def build_store(path: Path, providers: int, per_provider: int) -> ProviderStore:
    """A SQLite catalog of providers x per_provider valid models, written in one transaction."""
    store = ProviderStore(f"sqlite:///{path}")
    with store.transaction() as session:
        for p in range(providers):
            models = {f"vendor{p}/model-{p}-{i}": f"m{p}x{i}" for i in range(per_provider)}
            store.save_config(
                f"prov{p}",
                ProviderConfig(name=f"Provider {p}", api_key="sk-bench", valid_models=models),
                session=session,
            )
    return store


def model_strings(providers: int, per_provider: int, rng: random.Random) -> list[str]:
    """A mix of resolvable strings and misses for get_api_for_model_string."""
    out = []
    for n in range(QUERIES):
        p, i = rng.randrange(providers), rng.randrange(per_provider)
        kind = n % 6
        out.append(
            [
                f"prov{p}/vendor{p}/model-{p}-{i}",  # provider + long id
                f"prov{p}/m{p}x{i}",  # provider + alias
                f"vendor{p}/model-{p}-{i}",  # bare long id containing a slash
                f"m{p}x{i}",  # bare alias
                f"VENDOR{p}/MODEL-{p}-{i}",  # case-insensitive
                f"no-such-model-{n}",  # miss
            ][kind]
        )
    return out


def find_names(providers: int, per_provider: int, rng: random.Random) -> list[str]:
    """A mix of exact names, substrings and misses for find_model."""
    out = []
    for n in range(QUERIES):
        p, i = rng.randrange(providers), rng.randrange(per_provider)
        kind = n % 4
        out.append([f"vendor{p}/model-{p}-{i}", f"m{p}x{i}", f"model-{p}-{i}", f"absent-{n}"][kind])
    return out


def percentiles(
    call: Callable[[str], object], inputs: list[str], *, read: bool = False
) -> tuple[float, float]:
    """p50 and p99 in microseconds (``read``: a miss's message is read too)."""
    samples = []
    for text in inputs:
        started = time.perf_counter()
        try:
            call(text)
        except ValueError as exc:
            if read:
                str(exc)
        samples.append((time.perf_counter() - started) * 1e6)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.99)]


def measure(label: str, providers: int, per_provider: int, workdir: Path) -> dict[str, float]:
    """Build, open and query one catalog; print and return its figures."""
    rng = random.Random(7)
    started = time.perf_counter()
    store = build_store(workdir / f"{label}.db", providers, per_provider)
    built = time.perf_counter() - started
    started = time.perf_counter()
    manager = ProviderManager(store=store)
    loaded = time.perf_counter() - started
    started = time.perf_counter()
    manager.find_model("warm-up")  # builds the dict indexes
    manager.find_model("model-0-0")  # builds the trigram index
    indexed = time.perf_counter() - started
    assert manager.validate_model("vendor0/model-0-0") == "vendor0/model-0-0"
    resolve = percentiles(
        manager.get_api_for_model_string, model_strings(providers, per_provider, rng)
    )
    find = percentiles(manager.find_model, find_names(providers, per_provider, rng))
    typos = [
        f"vendor{p}/modl-{p}-{i}"
        for p, i in ((rng.randrange(providers), rng.randrange(per_provider)) for _ in range(200))
    ]
    near = percentiles(manager.get_api_for_model_string, typos)
    told = percentiles(manager.get_api_for_model_string, typos, read=True)
    total = providers * per_provider
    print(
        f"{label:>5}: {total:>7} models ({providers} providers); bulk write {built:6.2f} s, "
        f"load {loaded:5.2f} s, index build {indexed:5.2f} s"
    )
    print(f"       get_api_for_model_string p50 {resolve[0]:7.1f} us  p99 {resolve[1]:7.1f} us")
    print(f"       find_model               p50 {find[0]:7.1f} us  p99 {find[1]:7.1f} us")
    print(f"       near miss, caught        p50 {near[0]:7.1f} us  p99 {near[1]:7.1f} us")
    print(f"       near miss, message read  p50 {told[0]:7.1f} us  p99 {told[1]:7.1f} us")
    store.close()
    return {"r50": resolve[0], "r99": resolve[1], "f50": find[0], "f99": find[1]}


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        small = measure("small", 2, 5, Path(tmp))
        large = measure("large", 55, 2000, Path(tmp))
    print("ratio large/small (target <= 3.0):")
    ok = True
    for key, name in (
        ("r50", "resolve p50"),
        ("r99", "resolve p99"),
        ("f50", "find p50"),
        ("f99", "find p99"),
    ):
        ratio = large[key] / small[key]
        ok &= ratio <= 3.0
        print(f"       {name:<12} {ratio:5.2f}x")
    print("target met" if ok else "target NOT met")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
