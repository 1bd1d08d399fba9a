"""The main job end to end, offline, on an embedded SQLite file under .demo/.

1. start a loopback OpenAI-compatible provider (``python -m provider_store.testing``) whose models
   behave like real ones: chat models, a model that is not for chat, a flaky one, a reasoning
   model, a paged model list and listed metadata;
2. import data/openaicompat-providers.yaml plus a provider that points at the loopback server;
3. discover and validate the loopback provider's models, list the catalog, show a model's
   metadata, resolve names;
4. stop the server and show, from new processes, that the catalog answers from its cache.

Every step prints the exact command it runs (``$ ...``) and its output. Commands run through the
installed ``provider-store`` entry point, from the repository root, with the environment
variables printed at the start; $COLUMNS is the demo's terminal width (80 when there is none), as
their output is piped to the demo and would otherwise be laid out for 240 columns. At the end the
demo checks the verdicts it explained; a step that failed or a verdict that differs is listed and
the demo exits 1.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from provider_store.testing import BEHAVIOURS

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / ".demo"
BIN = Path(sys.executable).parent
ENV = {
    "PROVIDER_STORE_URL": "sqlite:///.demo/catalog.db",  # relative to the repository root
    "LOCAL_API_KEY": "sk-demo-local-key",  # the key of provider "local", never stored
}
PAGE_SIZE = 2
# model -> (server behaviour, the verdict it should earn)
LOCAL_MODELS = {
    "local-chat-large": ("pong", "valid"),
    "local-chat-mini": ("pong", "valid"),
    "local-reasoner": ("reasoning", "valid"),
    "local-embed": ("refuse", "invalid"),
    "local-flaky": ("error:503", "inconclusive"),
}
LISTED_METADATA = {
    "local-chat-large": {
        "name": "Local Chat Large",
        "context_length": 128000,
        "pricing": {"prompt": "0.0000025", "completion": "0.00001"},
        "architecture": {"input_modalities": ["text", "image"], "output_modalities": ["text"]},
        "top_provider": {"max_completion_tokens": 16384},
        "supported_parameters": ["tools", "response_format", "max_tokens"],
    },
}

failures: list[str] = []


def say(text: str) -> None:
    sys.stdout.write(f"\n== {text}\n")
    sys.stdout.flush()


def show(line: str) -> None:
    sys.stdout.write(f"$ {line}\n")
    sys.stdout.flush()


def terminal_columns() -> int:
    """The width the demo's reader sees: $COLUMNS, else the terminal of stdout or stderr, else 80.

    The commands below write into a pipe (the demo reads them), where provider-store would lay
    tables out for 240 columns; the demo passes this width on as $COLUMNS instead.
    """
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    for stream in (sys.stdout, sys.stderr):
        try:
            return os.get_terminal_size(stream.fileno()).columns
        except (OSError, ValueError):
            continue
    return 80


def _env() -> dict[str, str]:
    """The environment printed at the start; the installed entry points come first on PATH.

    $COLUMNS is the demo's own terminal width, so tables fit the screen the demo is read on.
    """
    return {
        **os.environ,
        **ENV,
        "COLUMNS": str(terminal_columns()),
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
    }


def run(*args: str, expect: int = 0, quiet: bool = False) -> str:
    """Run ``provider-store ARGS`` exactly as printed; keep going when it fails.

    ``quiet`` prints the command but not its standard output (which the demo reads itself).
    """
    command = ["provider-store", *args]
    show(shlex.join(command))
    result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=_env())
    sys.stdout.write("(read by the demo)\n" if quiet else result.stdout)
    if result.stderr:
        sys.stdout.write(result.stderr)
    if result.returncode != expect:
        failures.append(f"exit {result.returncode} (expected {expect}): {shlex.join(command)}")
        sys.stdout.write(f"   ^ exit {result.returncode}, expected {expect}\n")
    sys.stdout.flush()
    return result.stdout


def server_command() -> list[str]:
    command = [
        "python",
        "-m",
        "provider_store.testing",
        "--port",
        "0",
        "--latency",
        "0.05",
        "--page-size",
        str(PAGE_SIZE),
        "--models",
        ",".join(LOCAL_MODELS),
    ]
    for model, (behaviour, _) in LOCAL_MODELS.items():
        if behaviour != "pong":
            command += ["--behaviour", f"{model}={behaviour}"]
    for model, fields in LISTED_METADATA.items():
        command += ["--metadata", f"{model}={json.dumps(fields, separators=(',', ':'))}"]
    return command


def start_provider() -> tuple[subprocess.Popen[str], str]:
    command = server_command()
    show(shlex.join(command) + " &")
    server = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=ROOT, env=_env())
    assert server.stdout is not None
    base_url = server.stdout.readline().strip()
    if not base_url.startswith("http://127.0.0.1:"):
        server.kill()
        raise SystemExit(f"loopback provider did not start (said {base_url!r})")
    return server, base_url


def explain_behaviours(base_url: str) -> None:
    sys.stdout.write(f"serving at {base_url}, /models in pages of {PAGE_SIZE}:\n")
    width = max(len(m) for m in LOCAL_MODELS)
    for model, (behaviour, verdict) in LOCAL_MODELS.items():
        name = "reasoning[:<budget>]" if behaviour == "reasoning" else behaviour
        what = BEHAVIOURS.get(name, BEHAVIOURS["error:<status>"])
        sys.stdout.write(f"  {model:<{width}}  {behaviour:<9}  -> {verdict:<12}  ({what})\n")
    for model, fields in LISTED_METADATA.items():
        sys.stdout.write(f"  {model} is listed with {', '.join(fields)}\n")


def check_registry(output: str) -> None:
    """openai/4o's context and prices come from the models.dev data shipped with the package."""
    shown = json.loads(output)
    source = shown["sources"].get("context_length", {}).get("source", "")
    if shown["context_length"] is None or not source.startswith("models.dev"):
        failures.append(f"openai/4o context_length {shown['context_length']} from {source!r}")


def check_verdicts(listing: str) -> None:
    """Compare the stored verdicts with those the server's behaviours should earn."""
    try:
        rows = json.loads(listing)
    except ValueError:
        failures.append("models list --json did not print JSON")
        return
    found = {row["model"]: row.get("verdict") for row in rows if row.get("provider") == "local"}
    for model, (behaviour, expected) in LOCAL_MODELS.items():
        if model not in found:
            failures.append(f"{model} is missing from the catalog (the model list has pages)")
        elif found[model] != expected:
            failures.append(f"{model} ({behaviour}): verdict {found[model]}, expected {expected}")


def main() -> None:
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir()
    say("Environment of every command below")
    for name, value in ENV.items():
        show(f"export {name}={shlex.quote(value)}")
    show(f"export COLUMNS={terminal_columns()}  # this terminal's width, for the tables")

    say("Start a loopback OpenAI-compatible provider")
    server, base_url = start_provider()
    try:
        explain_behaviours(base_url)
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
        check_verdicts(run("models", "list", "--provider", "local", "--all", "--json", quiet=True))

        say("What the provider's list says about a model")
        run("models", "show", "local/local-chat-large")

        say("What a list leaves out (OpenAI lists no context or prices) comes from models.dev")
        run("registries", "update")
        run("models", "show", "openai/4o")
        check_registry(run("models", "show", "openai/4o", "--json", quiet=True))

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
    if failures:
        say("Not as expected")
        for failure in failures:
            sys.stdout.write(f"  - {failure}\n")
        raise SystemExit(1)
    say(f"Done. The demo catalog is {WORK / 'catalog.db'}")


if __name__ == "__main__":
    main()
