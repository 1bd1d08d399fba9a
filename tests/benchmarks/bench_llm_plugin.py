"""What the ``llm`` plugin adds to ``llm``'s start-up, against the cost of reading any catalog.

Run: ``.venv/bin/python tests/benchmarks/bench_llm_plugin.py [RUNS]`` (not collected by pytest;
needs ``llm`` in the venv, as ``make install`` puts it).

Each command runs in a new process, round-robin RUNS times (default 7), on a SQLite catalog of 3
providers x 40 valid models, from compiled bytecode; the figure of each is its median CPU time
(user + system: less sensitive than wall time to a loaded machine):

- ``llm --help`` and ``llm models list``, each without plugins (``LLM_LOAD_PLUGINS=""``) and
  with the provider-store plugin;
- floor: ``python -c "import sqlmodel, sqlalchemy.orm"`` minus ``python -c "pass"``: what reading
  a catalog costs at the least (the library's own start-up floor).

Targets (measured in one run): ``--help`` with the plugin <= 1.1x without (nothing of the catalog
is imported); what the plugin adds to ``models list`` (which also reads every model's metadata)
<= 2x the floor. Exit code 1 when a target is missed.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from provider_store import ProviderConfig, ProviderStore

LLM = str(Path(sys.executable).parent / "llm")


def build_catalog(path: Path) -> str:
    """A SQLite catalog of 3 providers x 40 valid models, with metadata; returns its URL."""
    url = f"sqlite:///{path}"
    store = ProviderStore(url)
    for p in range(3):
        models = {f"vendor{p}/model-{p}-{i}": f"m{p}x{i}" for i in range(40)}
        store.save_config(
            f"p{p}", ProviderConfig(name=f"P{p}", api_key="sk-bench", valid_models=models)
        )
        store.set_model_metadata(f"p{p}", f"vendor{p}/model-{p}-0", context_length=128000)
    store.close()
    return url


def cpu_of(command: list[str], env: dict[str, str]) -> float:
    """CPU seconds (user + system) of ``command`` in a new process (it must succeed)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = subprocess.run(command, capture_output=True, env=env, check=False)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        raise SystemExit(f"{command} failed: {result.stderr.decode(errors='replace')}")
    return (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)


def main() -> int:
    if not Path(LLM).exists():
        print(f"llm is not installed beside provider-store ({LLM}): pip install -e '.[test]'")
        return 1
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "PROVIDER_STORE_URL": build_catalog(Path(tmp) / "catalog.db")}
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(Path(tmp) / "pycache")
        env["LLM_USER_PATH"] = str(Path(tmp) / "llm")
        bare = {**env, "LLM_LOAD_PLUGINS": ""}
        commands = {
            "python": ([sys.executable, "-c", "pass"], env),
            "floor imports": ([sys.executable, "-c", "import sqlmodel, sqlalchemy.orm"], env),
            "--help, no plugin": ([LLM, "--help"], bare),
            "--help, plugin": ([LLM, "--help"], env),
            "models, no plugin": ([LLM, "models", "list"], bare),
            "models, plugin": ([LLM, "models", "list"], env),
        }
        for command, command_env in commands.values():  # warm the file cache and bytecode
            cpu_of(command, command_env)
        cpu: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(runs):
            for name, (command, command_env) in commands.items():
                cpu[name].append(cpu_of(command, command_env))
    median = {name: statistics.median(values) for name, values in cpu.items()}
    floor = median["floor imports"] - median["python"]
    help_ratio = median["--help, plugin"] / median["--help, no plugin"]
    added = median["models, plugin"] - median["models, no plugin"]
    print(f"llm start-up, median CPU of {runs} runs each, load {os.getloadavg()[0]:.1f}")
    for name, seconds in median.items():
        print(f"  {name:<20} {seconds:6.3f} s")
    print(f"floor (reading any catalog)      {floor:6.3f} s")
    print(f"--help with / without the plugin {help_ratio:6.2f} x   target <= 1.1")
    ratio = added / floor
    print(f"models list: the plugin adds     {added:6.3f} s = {ratio:.2f} x floor   target <= 2")
    return 0 if help_ratio <= 1.1 and added <= 2 * floor else 1


if __name__ == "__main__":
    sys.exit(main())
