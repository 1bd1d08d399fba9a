"""The command line of the fake provider: ``python -m provider_store.testing``.

Serves a :class:`~provider_store.testing.fake_server.FakeProvider` until SIGTERM or SIGINT; the
first line of standard output is its base URL. Bad arguments: one line on stderr, exit 2.
"""

from __future__ import annotations

import argparse
import errno
import json
import signal
import socket
import sys
from collections.abc import Sequence
from typing import Any

from provider_store.testing.fake_answers import BEHAVIOURS
from provider_store.testing.fake_server import FakeProvider

__all__ = ["main"]

_MAX_PORT = 65_535


def _bind_cause(exc: BaseException) -> str:
    """Why binding failed, in a few words."""
    if isinstance(exc, OSError) and exc.errno == errno.EADDRINUSE:
        return "the port is in use"
    if isinstance(exc, socket.gaierror):
        return "unknown host"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    return str(exc) or exc.__class__.__name__


def _fail(message: str) -> int:
    """One line on stderr; the exit code of bad input."""
    sys.stderr.write(f"python -m provider_store.testing: error: {message}\n")
    return 2


def main(argv: Sequence[str] | None = None) -> int:
    """Run a FakeProvider until SIGTERM/SIGINT; the first stdout line is its base URL."""
    parser = argparse.ArgumentParser(
        prog="python -m provider_store.testing",
        description="A loopback OpenAI-compatible server for tests and demos.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port (default 0: any free port)")
    parser.add_argument("--models", default="", help="comma-separated model ids")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds before each answer")
    parser.add_argument("--api-key", default=None, help="require this bearer key")
    parser.add_argument(
        "--page-size",
        type=int,
        default=None,
        metavar="N",
        help="answer /models in pages of at most N (has_more, last_id; next page ?after_id=)",
    )
    parser.add_argument(
        "--behaviour",
        action="append",
        default=[],
        metavar="MODEL=BEHAVIOUR",
        help="chat behaviour of one model (repeatable): "
        + "; ".join(f"{name}: {what}" for name, what in BEHAVIOURS.items()),
    )
    parser.add_argument(
        "--metadata",
        action="append",
        default=[],
        metavar="MODEL=JSON",
        help='fields added to a model\'s /models item, e.g. a={"context_length": 8192} '
        "(repeatable)",
    )
    args = parser.parse_args(argv)
    if not 0 <= args.port <= _MAX_PORT:
        return _fail(
            f"--port {args.port} is out of range 0-{_MAX_PORT} (try --port 0: any free port)"
        )
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    if args.page_size is not None and args.page_size < 1:
        parser.error("--page-size must be at least 1")
    fake = FakeProvider(
        models,
        latency=args.latency,
        api_key=args.api_key,
        host=args.host,
        port=args.port,
        page_size=args.page_size,
    )
    for item in args.behaviour:
        model, sep, behaviour = item.partition("=")
        if not sep or not model:
            parser.error(f"--behaviour takes MODEL=BEHAVIOUR, got {item!r}")
        if model not in models:
            served = ", ".join(models) or "none (--models is empty)"
            sys.stderr.write(
                f"{parser.prog}: --behaviour {item}: {model!r} is not served; "
                f"--models serves: {served}\n"
            )
            return 2
        try:
            fake.set_model_behaviour(model, behaviour)
        except ValueError:
            return _fail(
                f"unknown behaviour {behaviour!r} for {model}: valid behaviours are "
                + ", ".join(BEHAVIOURS)
            )
    for item in args.metadata:
        model, sep, raw = item.partition("=")
        try:
            fields = json.loads(raw) if sep and model else None
        except ValueError:
            fields = None
        if not isinstance(fields, dict):
            parser.error(f"--metadata takes MODEL=<JSON object>, got {item!r}")
        try:
            fake.set_model_metadata(model, fields)
        except ValueError as exc:
            parser.error(str(exc))

    def _stop(_signum: int, _frame: Any) -> None:
        fake.request_stop()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    try:
        fake.start()
    except (OSError, OverflowError) as exc:
        return _fail(
            f"cannot listen on {args.host}:{args.port}: {_bind_cause(exc)}"
            " (try --port 0 for any free port, or another --host)"
        )
    sys.stdout.write(fake.base_url + "\n")
    sys.stdout.flush()
    try:
        fake.serve_forever()
    finally:
        fake.stop()
    return 0
