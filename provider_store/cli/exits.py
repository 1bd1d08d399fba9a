"""How the command leaves: the one Ctrl-C path (exit 130) and an exit that does not wait for
worker threads still on the network."""

from __future__ import annotations

import os
import sys
import threading
from typing import NoReturn

import click

from provider_store.rules import EXIT_INTERRUPTED

__all__ = ["interrupted", "leave"]


def leave(code: int, *, at_once: bool = False) -> NoReturn:
    """Exit with ``code``; without interpreter clean-up when ``at_once`` or when a worker thread
    the interpreter would join (a ping, a slow list) is still running.

    What such a thread would write is a transaction of its own, and a transaction the exit cuts
    short is rolled back by the database, so nothing half-done is stored.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    others = [t for t in threading.enumerate() if t is not threading.main_thread()]
    if at_once or any(not t.daemon and t.is_alive() for t in others):
        os._exit(code)  # interpreter exit would join them first
    sys.exit(code)


def interrupted(*, at_once: bool = False) -> NoReturn:
    """Ctrl-C, wherever it came: say so and exit 130 at once (see :func:`leave`)."""
    click.echo("Interrupted.", err=True)
    leave(EXIT_INTERRUPTED, at_once=at_once)
