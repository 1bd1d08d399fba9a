"""``provider-store serve``: the catalog as a read-only HTTP API, in the foreground.

The server lives in :mod:`provider_store.serve` (an optional extra: starlette, uvicorn,
prometheus-client); this module parses the options, says where it listens, and turns a missing
extra into one line.
"""

from __future__ import annotations

import importlib
import os
import sys

import click

from provider_store.cli.app import CliState, cli, pass_state, print_json
from provider_store.errors import ConfigurationError
from provider_store.rules import EXIT_OK

# The modules of the ``serve`` extra.
_EXTRA = ("starlette", "uvicorn", "prometheus_client")


@cli.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8765,
    show_default=True,
    help="Port to listen on (0: any free port).",
)
@click.option(
    "--token-env",
    metavar="VAR",
    help="Require 'Authorization: Bearer TOKEN', TOKEN read from $VAR (needed off loopback).",
)
@click.option("--cors", "cors_origin", metavar="ORIGIN", help="Allow browser reads from ORIGIN.")
@pass_state
def serve(
    state: CliState, host: str, port: int, token_env: str | None, cors_origin: str | None
) -> None:
    """Serve the catalog read-only over HTTP (/v1/models, resolve, changes, metrics).

    Runs in the foreground until SIGTERM or Ctrl-C. GET /v1/models (OpenAI's list shape, usable
    models, ids provider/model), /v1/models/P/M, /v1/resolve?model=, /v1/changes?since=CURSOR,
    /v1/changes/stream (Server-Sent Events), /metrics (Prometheus), /healthz, /openapi.json.
    Follows other processes' commits within a
    second; never sends a request to a provider and never serves a key. Binds to loopback
    unless --host says otherwise, which needs --token-env. Once listening it says where on
    stderr (with --json also {"url": ...} on stdout).
    """
    for name in _EXTRA:
        try:
            importlib.import_module(name)
        except ImportError:
            raise ConfigurationError(
                f"serve needs {name}: pip install 'provider-store[serve]'"
            ) from None
    from provider_store.serve.http_server import serve as run_server

    token = os.environ.get(token_env, "").strip() or None if token_env else None
    store = state.store()

    def ready(url: str) -> None:
        click.echo(f"Serving {url} (read-only; SIGTERM or Ctrl-C stops)", err=True)
        if state.as_json:
            print_json({"url": url})

    try:
        run_server(
            store,
            host=host,
            port=port,
            token=token,
            token_env=token_env,
            cors_origin=cors_origin,
            on_ready=ready,
        )
    finally:
        store.close()
    # Stopped cleanly, the catalog closed: leave without tearing the interpreter down, which
    # on a busy machine can take longer than the second SIGTERM is given.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(EXIT_OK)
