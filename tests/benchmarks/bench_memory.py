"""Peak memory of discovering a 20 MB ``/models`` list (1.1 M ids) from a loopback server.

Run: ``.venv/bin/python tests/benchmarks/bench_memory.py`` (not collected by pytest). A separate
process serves the body; each measurement runs in a fresh child process and reports its peak RSS
(``resource.getrusage(RUSAGE_SELF).ru_maxrss``) next to its current RSS after its imports and
setup (the baseline; the catalog is created and migrated by another process beforehand), so the
figures are differences measured in one run:

- ``discover``: a store-backed ``ModelDiscoveryService.discover`` with the default cap (20,000
  models per provider): the list is refused above the cap (the refresh fails, nothing is stored),
  and the parse stops at item 20,001;
- ``list, no cap``: ``ProviderClient.list_models`` with the cap raised to 2,000,000, i.e. every
  item materialised, for comparison;
- ``json.loads``: the whole body parsed at once, as the client did before lists were capped.

Target: ``discover`` within 100 MB of its baseline (the body itself is 20 MB).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

IDS = 1_100_000

SERVER = textwrap.dedent(
    """
    import sys
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    BODY = open(sys.argv[1], "rb").read()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(BODY)))
            self.end_headers()
            self.wfile.write(BODY)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(server.server_address[1], flush=True)
    server.serve_forever()
    """
)

CHILD = textwrap.dedent(
    """
    import json, resource, sys, time
    mode, base, body_path, db = sys.argv[1:5]
    from provider_store import ModelDiscoveryService, ProviderClient, ProviderConfig, ProviderStore
    from provider_store.providers.base import ConnectionOptions

    def rss_mb():
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    def current_mb():
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        return rss_mb()

    outcome = ""
    if mode == "discover":
        store = ProviderStore(f"sqlite:///{db}")
        config = store.get_config("big")
        service = ModelDiscoveryService(store, client=ProviderClient(deadline=60))
        baseline = current_mb()
        started = time.perf_counter()
        result = service.discover(config)
        outcome = f"{len(result.models)} models, {type(result.error).__name__}: {result.error}"
    elif mode == "list":
        client = ProviderClient(deadline=60)
        options = ConnectionOptions.from_mapping({"max_models": 2_000_000})
        baseline = current_mb()
        started = time.perf_counter()
        outcome = f"{len(client.list_models(base, 'sk-bench', options=options))} models"
    else:
        data = open(body_path, "rb").read()
        baseline = current_mb()
        started = time.perf_counter()
        outcome = f"{len(json.loads(data)['data'])} models"
    seconds = time.perf_counter() - started
    print(json.dumps({"baseline": baseline, "peak": rss_mb(), "seconds": seconds,
                      "outcome": outcome[:110]}))
    """
)


def write_body(path: Path) -> int:
    """A ``/models`` body of IDS ids (about 20 MB); returns its size in bytes."""
    with path.open("w") as out:
        out.write('{"object":"list","data":[')
        out.write(",".join(f'{{"id":"m{i:07d}"}}' for i in range(IDS)))
        out.write("]}")
    return path.stat().st_size


SETUP = textwrap.dedent(
    """
    import sys
    from provider_store import ProviderConfig, ProviderStore
    store = ProviderStore(f"sqlite:///{sys.argv[2]}")
    store.save_config("big", ProviderConfig(base_api_url=sys.argv[1], api_key="sk-bench"))
    store.close()
    """
)


def measure(mode: str, base: str, body: Path, tmp: Path) -> dict[str, object]:
    """Run one child (after creating its catalog in another) and return its figures."""
    db = tmp / f"{mode}.db"
    subprocess.run([sys.executable, "-c", SETUP, base, str(db)], check=True)
    done = subprocess.run(
        [sys.executable, "-c", CHILD, mode, base, str(body), str(db)],
        check=True,
        capture_output=True,
        text=True,
    )
    figures: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def main() -> int:
    """Serve the body, measure every mode, print a table."""
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        body = tmp / "models.json"
        size = write_body(body)
        server = subprocess.Popen(
            [sys.executable, "-c", SERVER, str(body)], stdout=subprocess.PIPE, text=True
        )
        try:
            assert server.stdout is not None
            port = server.stdout.readline().strip()
            base = f"http://127.0.0.1:{port}/v1"
            print(f"body: {size / 1e6:.1f} MB, {IDS:,} ids")  # noqa: T201
            header = f"{'mode':<14}{'baseline MB':>12}{'peak MB':>10}{'growth MB':>11}{'s':>7}"
            print(header)  # noqa: T201
            for mode, label in (
                ("discover", "discover"),
                ("list", "list, no cap"),
                ("json", "json.loads"),
            ):
                f = measure(mode, base, body, tmp)
                baseline, peak = float(str(f["baseline"])), float(str(f["peak"]))
                print(  # noqa: T201
                    f"{label:<14}{baseline:>12.1f}{peak:>10.1f}{peak - baseline:>11.1f}"
                    f"{float(str(f['seconds'])):>7.2f}  {f['outcome']}"
                )
        finally:
            server.terminate()
            server.wait(10)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
