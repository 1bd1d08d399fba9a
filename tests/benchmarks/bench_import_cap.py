"""Benchmark: a dry-run import of a huge legacy YAML file (one provider, millions of models).

Run: ``.venv/bin/python tests/benchmarks/bench_import_cap.py [--models 2000000]``

Writes a file whose single provider lists ``--models`` valid models (2,000,000 makes a ~48 MB
file, under the 50 MiB file limit), then runs ``provider-store import --dry-run`` on it in a new
process and prints its wall time, exit code, first error line and peak memory (``ru_maxrss`` of
the child). With the per-provider cap (20,000 by default) the import is refused at the first
model past it: seconds and tens of MB instead of tens of seconds and gigabytes.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def write_file(path: Path, models: int) -> None:
    """A legacy document with one provider listing ``models`` valid models."""
    with path.open("w", encoding="utf-8") as out:
        out.write("providers:\n  huge:\n    name: Huge\n    api_key: ''\n")
        out.write("    base_api_url: http://127.0.0.1:9/v1\n    valid_models:\n")
        for i in range(models):
            out.write(f"      model-{i:07d}: a\n")


def main() -> None:
    """Write the file, import it in a child process, report time and peak memory."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--models", type=int, default=2_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "huge.yaml"
        write_file(source, args.models)
        size = source.stat().st_size
        command = [
            sys.executable,
            "-m",
            "provider_store",
            "--db",
            str(Path(tmp) / "catalog.db"),
            "import",
            "--dry-run",
            str(source),
        ]
        started = time.perf_counter()
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        wall = time.perf_counter() - started
        peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        first = (result.stderr.strip() or result.stdout.strip()).splitlines()[:1]
        print(
            f"import --dry-run of {args.models:,} models ({size / 1e6:.1f} MB):"
            f" {wall:.1f} s, peak {peak_kib / 1024:.0f} MiB, exit {result.returncode}"
        )
        print(f"  {first[0] if first else ''}"[:200])


if __name__ == "__main__":
    main()
