"""A fleet on one catalog: readers, an editor, a keeper and a stampede, before and after.

Run: ``.venv/bin/python tests/benchmarks/bench_fleet.py [--baseline PATH] [--providers 40]
[--models 250] [--readers 6] [--seconds 15]`` (not collected by pytest). PostgreSQL runs when
``PROVIDER_STORE_TEST_POSTGRES_URL`` (or ``--postgres URL``, a superuser: the benchmark creates
roles) is set, SQLite always (``--no-sqlite`` skips it).

``--baseline PATH`` is a checkout of the code to compare with, with its own ``.venv`` (e.g.
``git -C /work/main worktree add --detach /work/wt/base main && make -C /work/wt/base
install``): every process of the "before" column runs that checkout's code, every process of the
"after" column this one's, each on a catalog of its own that its own code created. Without it,
only "after" is measured.

For each backend, and each code, it prints:

- **resolution p99 / max while another process edits**: ``--readers`` processes, each a
  ``ProviderManager`` following the catalog, resolve ``provider/model`` strings (one every 2 ms)
  for ``--seconds`` while an editor process adds a model to one provider every ``--edit-every``
  seconds (goals: p99 under 1 ms, max under 50 ms); beside them what the slowest are made of:
  the most CPU time one resolution took (the rest of a wall time is waiting for a core, on a
  loaded machine), and the readers' full garbage collections (count, longest pass);
- **an edit seen by every reader, p50 / p99**: from the editor's commit to the moment the last
  reader resolves the new model (goal: p99 within 1 s);
- **CPU per change**: the CPU time a following manager spends on the resolution that takes in
  another store's edit of one provider (re-read and re-index), p50 and max of 10 edits;
- **model rows written by an unchanged refresh** of one provider (a forced refresh that gets
  the list the catalog holds; goal: 0), and whether it moved the provider's change token;
- **connections per process** (PostgreSQL): the most server connections one reader held, and
  one ``provider-store discover`` of 20 providers x 3 models (validated) held (goal: at most 4);
- **/models requests in a stampede**: ``--stampede`` processes discover the same
  ``--stampede-providers`` stale providers at one instant (goal: one request per provider), and
  on PostgreSQL again under a role limited to ``--limit`` connections for all of them (goal: the
  same, whatever the limit); processes that failed are counted;
- **keeper pass**: ``provider-store refresh --once --no-validate`` over every provider, all due,
  each answering ``/models`` in ``--latency`` seconds;
- **``models stats`` and ``changes --since 1h``**: the command's wall time, and that of
  ``providers list`` (a process's start-up) beside it.

Without ``--baseline``, "before" can be had from a checkout of the code before a change
(``git worktree add --detach /work/wt/base <commit>`` plus its own venv).
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve()
TESTS = HERE.parents[1]
sys.path.insert(0, str(TESTS))

POSTGRES_ENV = "PROVIDER_STORE_TEST_POSTGRES_URL"
KEY = "sk-fleet-0123456789"
GOALS = {
    "resolution p99 (ms)": 1.0,
    "resolution max (ms)": 50.0,
    "edit seen by all, p99 (ms)": 1000.0,
    "rows of an unchanged refresh": 0,
    "connections: a reader": 4,
    "connections: discover 20": 4,
}


# -- the worker side (runs the code under test) --------------------------------------------------


def rows_of(store: Any) -> Any:
    """The store's row operations (``store.rows``; the store itself in code before it had them,
    which a ``--baseline`` checkout may be)."""
    return getattr(store, "rows", store)


def _barrier() -> None:
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    start_at = float(sys.stdin.readline())
    time.sleep(max(0.0, start_at - time.time()))


def _emit(payload: Any) -> None:
    sys.stdout.write(json.dumps(payload) + "\n")
    sys.stdout.flush()


def work_setup(url: str, providers: str, models: str, bases: str, stale: str, history: str) -> None:
    """Providers p0.. with valid models m0.., each pointing at its base URL, their lists cached
    (an hour old when ``stale`` is 1), and (``history`` 1) a ping observation per model."""
    from provider_store import ProviderConfig, ProviderStore

    store = ProviderStore(url)
    urls = bases.split(",")
    ids = [f"m{j}" for j in range(int(models))]
    at = time.time() - (7200 if stale == "1" else 0)
    for i in range(int(providers)):
        key = f"p{i}"
        config = ProviderConfig(
            name=key,
            base_api_url=urls[i % len(urls)],
            api_key=KEY,
            valid_models={m: m for m in ids},
        )
        store.save_config(key, config)
        rows_of(store).write_cache(key, [{"id": m} for m in ids], fetched_at=at)
    if history == "1":
        from provider_store import ValidationResult, Verdict
        from provider_store.history.ping_history import record_verdict_history

        now = time.time()
        for i in range(int(providers)):
            results = [
                ValidationResult(m, Verdict.VALID, "pong", now, latency_ms=100.0 + j % 50)
                for j, m in enumerate(ids)
            ]
            with store.transaction() as session:
                record_verdict_history(session, f"p{i}", results)
    store.close()
    _emit({"ok": True})


def work_reader(url: str, providers: str, models: str, seconds: str) -> None:
    """Resolve random models (one every 2 ms) for ``seconds``; note when each edit is seen."""
    from provider_store import ProviderManager, ProviderStore, ProviderStoreError

    n, m = int(providers), int(models)
    store = ProviderStore(url)
    manager = ProviderManager(store=store)
    manager.get_api_for_model_string("p0/m0")  # the index is built before the clock starts
    rnd = random.Random(os.getpid())
    full_passes: list[float] = []  # wall seconds of each full garbage collection
    gc_started = [0.0]

    def on_gc(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            gc_started[0] = time.perf_counter()
        elif info["generation"] == 2:
            full_passes.append(time.perf_counter() - gc_started[0])

    gc.callbacks.append(on_gc)
    _barrier()
    samples: list[float] = []
    cpu_max = 0.0  # the most CPU time one resolution took (its wall time less waiting)
    seen: dict[int, float] = {}
    edit = 0
    next_check = 0.0
    until = time.monotonic() + float(seconds)
    while time.monotonic() < until:
        name = f"p{rnd.randrange(n)}/m{rnd.randrange(m)}"
        cpu = time.thread_time()
        started = time.perf_counter()
        manager.get_api_for_model_string(name)
        samples.append(time.perf_counter() - started)
        cpu_max = max(cpu_max, time.thread_time() - cpu)
        if time.monotonic() >= next_check:  # is the next edit here yet?
            next_check = time.monotonic() + 0.01
            while True:
                try:
                    manager.get_api_for_model_string(f"p{edit % n}/fleet-edit-{edit}")
                except ProviderStoreError:
                    break
                seen[edit] = time.time()
                edit += 1
        time.sleep(0.002)
    samples.sort()
    _emit(
        {
            "p50": samples[len(samples) // 2],
            "p99": samples[int(0.99 * (len(samples) - 1))],
            "max": samples[-1],
            "cpu_max": cpu_max,
            "full_gc": full_passes,
            "count": len(samples),
            "seen": seen,
        }
    )
    manager.close()
    store.close()


def work_editor(url: str, providers: str, seconds: str, every: str) -> None:
    """Add model ``fleet-edit-K`` to provider ``p{K % providers}`` every ``every`` seconds."""
    from provider_store import ProviderStore

    store = ProviderStore(url)
    _barrier()
    committed: dict[int, float] = {}
    until = time.monotonic() + float(seconds) - 1.0
    edit = 0
    while time.monotonic() < until:
        time.sleep(float(every))
        key = f"p{edit % int(providers)}"
        config = store.get_config(key)
        config.valid_models[f"fleet-edit-{edit}"] = f"fleet-edit-{edit}"
        store.save_config(key, config)
        committed[edit] = time.time()
        edit += 1
    _emit({"committed": committed})
    store.close()


def work_change_cpu(url: str, providers: str, edits: str) -> None:
    """A manager following the catalog; another store adds a model to one provider ``edits``
    times. The CPU time of the resolution that takes each edit in (re-read and re-index)."""
    from provider_store import ProviderManager, ProviderStore, ProviderStoreError

    store, editor = ProviderStore(url), ProviderStore(url)
    manager = ProviderManager(store=store, follow_interval=0.0)
    manager.get_api_for_model_string("p0/m0")  # the index is built first
    costs: list[float] = []
    for edit in range(int(edits)):
        key = f"p{edit % int(providers)}"
        config = editor.get_config(key)
        config.valid_models[f"cpu-edit-{edit}"] = f"cpu-edit-{edit}"
        editor.save_config(key, config)
        until = time.monotonic() + 10
        while time.monotonic() < until:  # on PostgreSQL the wake-up comes by NOTIFY
            started = time.process_time()
            try:
                manager.get_api_for_model_string(f"{key}/cpu-edit-{edit}")
            except ProviderStoreError:
                time.sleep(0.005)
                continue
            costs.append(time.process_time() - started)
            break
    costs.sort()
    _emit({"p50": costs[len(costs) // 2], "max": costs[-1], "seen": len(costs)})
    editor.close()
    store.close()


_WRITE = re.compile(r'^\s*(INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?model"?[\s(]', re.IGNORECASE)


def work_unchanged(url: str, key: str) -> None:
    """Refresh ``key`` twice (forced); count the model rows the second, unchanged one wrote."""
    from sqlalchemy import event

    from provider_store import ModelDiscoveryService, ProviderStore

    store = ProviderStore(url)
    service = ModelDiscoveryService(store)
    service.discover(store.get_config(key), force_refresh=True)
    rows = [0]

    def count(_c: Any, cursor: Any, statement: str, *_a: Any) -> None:
        if _WRITE.match(statement):
            rows[0] += max(0, cursor.rowcount or 0)

    event.listen(store.engine, "after_cursor_execute", count)
    token = rows_of(store).change_tokens().providers.get(key)
    result = service.discover(store.get_config(key), force_refresh=True)
    moved = rows_of(store).change_tokens().providers.get(key) != token
    _emit({"rows": rows[0], "moved": moved, "source": str(result.source)})
    service.close()
    store.close()


def work_discover(url: str) -> None:
    """After the barrier: open the store, discover every provider (lists only)."""
    _barrier()
    from provider_store import ProviderManager, ProviderStore

    try:
        store = ProviderStore(url)
        report = ProviderManager(store=store).discover(validate=False, deadline=60)
        failed = [s.provider for s in report.providers if not s.ok]
        _emit({"ok": report.ok, "failed": failed})
    except Exception as exc:  # noqa: BLE001 - a failure is a figure here
        _emit({"ok": False, "failed": ["*"], "error": f"{type(exc).__name__}: {exc}"[:300]})


WORKERS: dict[str, Callable[..., None]] = {
    "setup": work_setup,
    "reader": work_reader,
    "editor": work_editor,
    "unchanged": work_unchanged,
    "discover": work_discover,
    "change_cpu": work_change_cpu,
}


# -- the parent side -----------------------------------------------------------------------------


class Code:
    """The code a column runs: a label and the interpreter of its checkout's venv."""

    def __init__(self, label: str, python: str, checkout: Path) -> None:
        self.label, self.python, self.checkout = label, python, checkout

    def spawn(self, mode: str, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [self.python, str(HERE), "--worker", mode, *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=self.checkout,
        )

    def run(self, mode: str, *args: str, timeout: float = 600) -> Any:
        proc = self.spawn(mode, *args)
        out, err = proc.communicate(timeout=timeout)
        if proc.returncode != 0:
            raise RuntimeError(f"{self.label} {mode} failed: {err[-1500:]}")
        return json.loads(out.strip().splitlines()[-1])

    def cli_seconds(self, url: str, *args: str) -> float:
        started = time.perf_counter()
        subprocess.run(
            [self.python, "-m", "provider_store", "--db", url, *args],
            cwd=self.checkout,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
            timeout=900,
        )
        return time.perf_counter() - started


def together(procs: list[subprocess.Popen[str]], timeout: float = 600) -> list[Any]:
    """Start the workers at one instant once all are ready; their JSON (None for a failure)."""
    for proc in procs:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if line != "ready\n":
            err = proc.stderr.read() if proc.stderr else ""
            raise RuntimeError(f"worker not ready: {line!r} {err[-1500:]}")
    start_at = time.time() + 0.3
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write(f"{start_at}\n")
        proc.stdin.flush()
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=timeout)
        lines = out.strip().splitlines()
        results.append(json.loads(lines[-1]) if proc.returncode == 0 and lines else None)
        if proc.returncode != 0:
            logging.warning("a worker failed: %s", err[-500:])
    return results


def with_query(url: str, **params: str) -> str:
    from sqlalchemy import make_url

    return make_url(url).update_query_dict(params).render_as_string(hide_password=False)


@contextmanager
def catalog(backend: str, server: str, limit: int = 1000) -> Iterator[str]:
    """An empty catalog: a SQLite file, or a PostgreSQL role's own schema."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            yield f"sqlite:///{Path(tmp) / 'catalog.db'}"
        return
    from pg_fleet import limited_role

    with limited_role(server, limit) as url:
        yield url


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


class Fleet:
    """The figures of one code on one backend."""

    def __init__(self, args: argparse.Namespace, backend: str, server: str) -> None:
        self.args, self.backend, self.server = args, backend, server

    def measure(self, code: Code) -> dict[str, Any]:
        figures: dict[str, Any] = {}
        a = self.args
        with ExitStack() as stack:
            from provider_store.testing import FakeProvider

            models = [f"m{j}" for j in range(a.models)]
            fakes = [
                stack.enter_context(FakeProvider(models, latency=a.latency))
                for _ in range(a.providers)
            ]
            bases = ",".join(f.base_url for f in fakes)
            url = stack.enter_context(catalog(self.backend, self.server))
            code.run("setup", url, str(a.providers), str(a.models), bases, "1", "1")
            figures |= self.readers(code, url)
            cpu = code.run("change_cpu", url, str(a.providers), "10")
            figures["CPU per change, p50 (ms)"] = cpu["p50"] * 1000
            figures["CPU per change, max (ms)"] = cpu["max"] * 1000
            for fake in fakes:
                fake.reset_counts()
            figures["keeper pass (s)"] = code.cli_seconds(url, "refresh", "--once", "--no-validate")
            unchanged = code.run("unchanged", url, "p0")
            figures["rows of an unchanged refresh"] = unchanged["rows"]
            figures["token moved by it"] = "yes" if unchanged["moved"] else "no"
            figures["start-up: providers list (s)"] = code.cli_seconds(url, "providers", "list")
            figures["models stats (s)"] = code.cli_seconds(url, "models", "stats")
            figures["changes --since 1h (s)"] = code.cli_seconds(url, "changes", "--since", "1h")
        figures |= self.stampedes(code)
        if self.backend == "postgresql":
            figures["connections: discover 20"] = self.discovery_connections(code)
        return figures

    def readers(self, code: Code, url: str) -> dict[str, Any]:
        a = self.args
        tags = [f"bench-reader-{uuid.uuid4().hex[:8]}" for _ in range(a.readers)]
        urls = [
            with_query(url, application_name=tag) if self.backend != "sqlite" else url
            for tag in tags
        ]
        procs = [
            code.spawn("reader", u, str(a.providers), str(a.models), str(a.seconds)) for u in urls
        ]
        procs.append(code.spawn("editor", url, str(a.providers), str(a.seconds), str(a.edit_every)))
        sampler = None
        stop = threading.Event()
        if self.backend == "postgresql":
            from pg_fleet import ConnectionSampler

            sampler = ConnectionSampler(self.server, tags)

            def sample() -> None:
                while not stop.wait(0.05):
                    sampler.sample()

            threading.Thread(target=sample, daemon=True).start()
        results = together(procs)
        stop.set()
        *readers, editor = results
        readers = [r for r in readers if r is not None]
        figures: dict[str, Any] = {
            "resolution p99 (ms)": max(r["p99"] for r in readers) * 1000,
            "resolution max (ms)": max(r["max"] for r in readers) * 1000,
            "resolution max CPU (ms)": max(r.get("cpu_max", 0.0) for r in readers) * 1000,
            "full GC passes (all readers)": sum(len(r.get("full_gc", [])) for r in readers),
            "longest full GC pass (ms)": max(
                (p for r in readers for p in r.get("full_gc", [])), default=0.0
            )
            * 1000,
            "resolutions": sum(r["count"] for r in readers),
        }
        lags = []
        missed = 0
        for edit, committed in (editor or {"committed": {}})["committed"].items():
            seen = [r["seen"].get(edit) for r in readers]
            if None in seen or len(readers) < a.readers:
                missed += 1
            else:
                lags.append(max(seen) - committed)
        if lags:
            figures["edit seen by all, p50 (ms)"] = statistics.median(lags) * 1000
            figures["edit seen by all, p99 (ms)"] = percentile(lags, 0.99) * 1000
        figures["edits not seen by all"] = missed
        if sampler is not None:
            figures["connections: a reader"] = max(sampler.peak.values())
            sampler.close()
        return figures

    def stampedes(self, code: Code) -> dict[str, Any]:
        a = self.args
        limits = [None] + ([a.limit] if self.backend == "postgresql" else [])
        figures: dict[str, Any] = {}
        for limit in limits:
            from provider_store.testing import FakeProvider

            with ExitStack() as stack:
                fakes = [
                    stack.enter_context(FakeProvider(["a", "b"], latency=a.latency))
                    for _ in range(a.stampede_providers)
                ]
                bases = ",".join(f.base_url for f in fakes)
                url = stack.enter_context(
                    catalog(self.backend, self.server, limit if limit is not None else 1000)
                )
                code.run("setup", url, str(a.stampede_providers), "2", bases, "1", "0")
                results = together([code.spawn("discover", url) for _ in range(a.stampede)])
                requests = sum(f.request_count("/models") for f in fakes)
                failed = sum(1 for r in results if r is None or not r["ok"])
            name = "stampede /models" + ("" if limit is None else f", {limit} connections")
            figures[name] = f"{requests} ({failed} failed)"
        return figures

    def discovery_connections(self, code: Code) -> int:
        from pg_fleet import ConnectionSampler

        from provider_store.testing import FakeProvider

        tag = f"bench-discover-{uuid.uuid4().hex[:8]}"
        with (
            FakeProvider(["m1", "m2", "m3"], latency=0.05) as fake,
            catalog(self.backend, self.server) as url,
        ):
            code.run("setup", url, "20", "3", fake.base_url, "1", "0")
            sampler = ConnectionSampler(self.server, [tag])
            command = [code.python, "-m", "provider_store", "--db"]
            command += [with_query(url, application_name=tag), "discover", "--force-refresh"]
            proc = subprocess.Popen(
                command, cwd=code.checkout, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            while proc.poll() is None:
                sampler.sample()
                time.sleep(0.005)
            sampler.close()
            return sampler.peak[tag]


def show(backend: str, args: argparse.Namespace, columns: dict[str, dict[str, Any]]) -> None:
    size = args.providers * args.models
    print(
        f"\n{backend}: {args.providers} providers x {args.models} models ({size:,}),"
        f" {args.readers} readers x {args.seconds:g} s, an edit every {args.edit_every:g} s,"
        f" stampede {args.stampede} processes x {args.stampede_providers} providers"
    )
    names: list[str] = []
    for figures in columns.values():
        names += [n for n in figures if n not in names]
    labels = list(columns)
    print(f"  {'figure':<34}" + "".join(f"{label:>16}" for label in labels) + "   goal")
    for name in names:
        cells = []
        for label in labels:
            value = columns[label].get(name, "n/a")
            cells.append(f"{value:>16.2f}" if isinstance(value, float) else f"{value!s:>16}")
        goal = GOALS.get(name)
        verdict = ""
        after = columns[labels[-1]].get(name)
        if goal is not None and isinstance(after, int | float):
            verdict = f"   {'<=' if isinstance(goal, int) else '<'} {goal}: " + (
                "met" if (after <= goal if isinstance(goal, int) else after < goal) else "NOT met"
            )
        if name.startswith("stampede /models"):
            verdict = f"   {args.stampede_providers} (one per provider)"
        print(f"  {name:<34}" + "".join(cells) + verdict)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", metavar="PATH", help="checkout of the code to compare with")
    parser.add_argument("--postgres", default=os.environ.get(POSTGRES_ENV), help="server URL")
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    parser.add_argument("--providers", type=int, default=40)
    parser.add_argument("--models", type=int, default=250, help="models per provider")
    parser.add_argument("--readers", type=int, default=6, help="reader processes")
    parser.add_argument("--seconds", type=float, default=15.0, help="how long readers read")
    parser.add_argument("--edit-every", type=float, default=0.5, help="seconds between edits")
    parser.add_argument("--latency", type=float, default=0.2, help="seconds per /models answer")
    parser.add_argument("--stampede", type=int, default=8, help="processes of the stampede")
    parser.add_argument("--stampede-providers", type=int, default=20)
    parser.add_argument("--limit", type=int, default=4, help="connections of the limited role")
    parser.add_argument("--worker", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        logging.basicConfig(level=os.environ.get("BENCH_FLEET_LOG", "ERROR"))
        WORKERS[args.worker[0]](*args.worker[1:])
        return 0
    logging.basicConfig(level=logging.ERROR)
    codes = [Code("after", sys.executable, HERE.parents[2])]
    if args.baseline:
        checkout = Path(args.baseline).resolve()
        python = checkout / ".venv" / "bin" / "python"
        if not python.exists():
            parser.error(f"{python} is missing: run make install in {checkout}")
        codes.insert(0, Code("before", str(python), checkout))
    backends = ([] if args.no_sqlite else ["sqlite"]) + (["postgresql"] if args.postgres else [])
    for backend in backends:
        fleet = Fleet(args, backend, args.postgres or "")
        columns = {code.label: fleet.measure(code) for code in codes}
        show(backend, args, columns)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
