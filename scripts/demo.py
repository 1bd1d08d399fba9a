"""The main job end to end, offline, on an embedded SQLite file under .demo/.

1. start a loopback OpenAI-compatible provider (``python -m provider_store.testing``);
2. import data/openaicompat-providers.yaml plus a provider that points at the loopback server;
3. discover and validate the loopback provider's models, list the catalog, resolve names;
4. stop the server and show, from new processes, that the catalog answers from its cache.

Every step runs the real ``provider-store`` command and shows it with its output.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / ".demo"
DB_URL = f"sqlite:///{WORK / 'catalog.db'}"
CLI = [sys.executable, "-m", "provider_store", "--db", DB_URL]
LOCAL_MODELS = ["local-chat-large", "local-chat-mini", "local-embed", "local-flaky"]


def say(text: str) -> None:
    sys.stdout.write(f"\n== {text}\n")
    sys.stdout.flush()


def run(*args: str, expect: int = 0) -> str:
    shown = ["provider-store", *args]
    sys.stdout.write(f"$ {shlex.join(shown)}\n")
    sys.stdout.flush()
    result = subprocess.run([*CLI, *args], capture_output=True, text=True, cwd=ROOT)
    sys.stdout.write(result.stdout)
    if result.stderr:
        sys.stdout.write(result.stderr)
    if result.returncode != expect:
        raise SystemExit(f"demo step failed (exit {result.returncode}): {shlex.join(shown)}")
    return result.stdout


def start_provider() -> tuple[subprocess.Popen[str], str]:
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "provider_store.testing",
            "--port",
            "0",
            "--latency",
            "0.05",
            "--models",
            ",".join(LOCAL_MODELS),
            "--behaviour",
            "local-embed=refuse",
            "--behaviour",
            "local-flaky=error:503",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert server.stdout is not None
    base_url = server.stdout.readline().strip()
    if not base_url.startswith("http://127.0.0.1:"):
        server.kill()
        raise SystemExit(f"loopback provider did not start (said {base_url!r})")
    return server, base_url


def main() -> None:
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir()
    os.environ["LOCAL_API_KEY"] = "sk-demo-local-key"  # the effective key of provider "local"

    say("Start a loopback OpenAI-compatible provider")
    server, base_url = start_provider()
    try:
        sys.stdout.write(f"serving {', '.join(LOCAL_MODELS)} at {base_url}\n")
        local = WORK / "local.yaml"
        local.write_text(
            "providers:\n"
            "  local:\n"
            "    api_key: local-not-configured   # LOCAL_API_KEY supplies the real key\n"
            f"    base_api_url: {base_url}\n"
            "    name: Loopback demo provider\n"
            "    valid_models:\n"
            "      local-chat-large: big\n"
            "    invalid_models: []\n",
            encoding="utf-8",
        )

        say("Import the shipped catalog and the loopback provider")
        run("import", "data/openaicompat-providers.yaml")
        run("import", str(local.relative_to(ROOT)))
        run("providers", "list")

        say("Discover and validate the loopback provider (pings cost money: verdicts are kept)")
        run("discover", "local")
        run("models", "list", "--provider", "local", "--all")

        say("Resolve names across providers")
        run("resolve", "big")
        run("resolve", "together/qwq")
        run("resolve", "Qwen/QwQ-32B")
        run("find", "4o")
    finally:
        server.terminate()
        server.wait(timeout=10)

    say("The provider is gone: new processes answer from the durable cache, without the network")
    run("discover", "local", "--no-validate")
    run("models", "list", "--provider", "local")

    say("Export (keys redacted)")
    run("export", "-", "--redact-keys")
    say(f"Done. The demo catalog is {WORK / 'catalog.db'}")


if __name__ == "__main__":
    main()
