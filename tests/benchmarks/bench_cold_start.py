"""Cold start: how long a new process takes to give its first answer, against the import floor.

Run: ``.venv/bin/python tests/benchmarks/bench_cold_start.py [RUNS]`` (not collected by pytest).

Four commands, each in a new process, run round-robin RUNS times (default 9) so that machine load
drifts over all of them alike; the figure of each is its median wall-clock time:

- floor: ``python -c "import sqlmodel, sqlalchemy.orm"`` (the required dependencies);
- ``provider-store --help``;
- ``provider-store models list`` on a migrated SQLite catalog of 3 providers x 40 models;
- the library: ``ProviderManager(store=ProviderStore(url)).get_api_for_model_string("p0/m0x1")``.

Targets (ratios measured in one run): ``--help`` <= 0.3x the floor; ``models list`` and the
library call <= 1.2x the floor. Exit code 1 when a target is missed.

Every command runs from compiled bytecode, as an installed package does (pip compiles it):
the children get a bytecode cache of their own (``PYTHONPYCACHEPREFIX``, filled by the warm-up
run) even where ``PYTHONDONTWRITEBYTECODE`` is set, which would otherwise make the package's own
modules (an editable install's source tree) compile on every run while the dependencies of the
floor load their installed bytecode. ``--source`` keeps the environment as it is.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from provider_store import ProviderConfig, ProviderStore

BIN = Path(sys.executable).parent
CLI = str(BIN / "provider-store")
TARGETS = {"--help": 0.3, "models list": 1.2, "library resolve": 1.2}


def build_catalog(path: Path) -> str:
    """A migrated SQLite catalog of 3 providers x 40 valid models; returns its URL."""
    url = f"sqlite:///{path}"
    store = ProviderStore(url)
    with store.transaction() as session:
        for p in range(3):
            models = {f"vendor{p}/model-{p}-{i}": f"m{p}x{i}" for i in range(40)}
            store.save_config(
                f"p{p}",
                ProviderConfig(name=f"Provider {p}", api_key="sk-bench", valid_models=models),
                session=session,
            )
    store.close()
    return url


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall-clock, CPU) seconds from spawning ``command`` to its exit (it must succeed)."""
    cpu = _children_cpu()
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, env=env, check=False)
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"{command} failed: {result.stderr.decode(errors='replace')}")
    return seconds, _children_cpu() - cpu


def main() -> int:
    args = [a for a in sys.argv[1:] if a != "--source"]
    runs = int(args[0]) if args else 9
    with tempfile.TemporaryDirectory() as tmp:
        url = build_catalog(Path(tmp) / "catalog.db")
        env = {**os.environ, "PROVIDER_STORE_URL": url, "COLUMNS": "100"}
        if "--source" not in sys.argv:
            env.pop("PYTHONDONTWRITEBYTECODE", None)
            env["PYTHONPYCACHEPREFIX"] = str(Path(tmp) / "pycache")
        library = (
            "from provider_store import ProviderManager, ProviderStore\n"
            f"manager = ProviderManager(store=ProviderStore({url!r}))\n"
            "manager.get_api_for_model_string('p0/m0x1')\n"
        )
        commands = {
            "floor": [sys.executable, "-c", "import sqlmodel, sqlalchemy.orm"],
            "--help": [CLI, "--help"],
            "models list": [CLI, "models", "list"],
            "library resolve": [sys.executable, "-c", library],
        }
        for command in commands.values():  # warm the OS file cache and the .pyc files
            timed(command, env)
        wall: dict[str, list[float]] = {name: [] for name in commands}
        cpu: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(runs):
            for name, command in commands.items():
                seconds, cpu_seconds = timed(command, env)
                wall[name].append(seconds)
                cpu[name].append(cpu_seconds)
    medians = {name: statistics.median(values) for name, values in wall.items()}
    cpu_medians = {name: statistics.median(values) for name, values in cpu.items()}
    floor, cpu_floor = medians["floor"], cpu_medians["floor"]
    how = "as in the environment" if "--source" in sys.argv else "from compiled bytecode"
    print(
        f"cold start, median of {runs} runs each (round-robin, {how}),"
        f" load {os.getloadavg()[0]:.1f}"
    )
    print(f"{'command':<16} {'wall s':>7} {'x floor':>8} {'cpu s':>7} {'x floor':>8} {'target':>7}")
    missed = []
    for name, median in medians.items():
        ratio = median / floor
        cpu_ratio = cpu_medians[name] / cpu_floor
        target = TARGETS.get(name)
        verdict = "" if target is None else ("ok" if ratio <= target else "MISSED")
        shown = "" if target is None else f"<={target}"
        print(
            f"{name:<16} {median:>7.3f} {ratio:>8.2f} {cpu_medians[name]:>7.3f} {cpu_ratio:>8.2f}"
            f" {shown:>7} {verdict}"
        )
        if target is not None and ratio > target:
            missed.append(name)
    print("targets apply to the wall-clock ratio; the CPU ratio is less sensitive to load")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
