"""``provider-store refresh [--every 15m] [--once] [PROVIDER...]``: keep model lists fresh.

A foreground process for systemd, cron (``--once``) or a container. The schedule, the jitter and
the one-refresh-per-provider rule live in :mod:`provider_store.discovery.keeper`; this module
parses options, prints one line per refresh (one JSON object per line with ``--json``) and stops
on SIGTERM (exit 0) or Ctrl-C (exit 130).
"""

from __future__ import annotations

import dataclasses
import json
import signal
import sys
import threading
import time
from types import FrameType
from typing import TYPE_CHECKING, Any

import click

from provider_store.cli.app import CliState, cli, note, output, pass_state
from provider_store.cli.exits import interrupted, leave
from provider_store.cli.model_param import PROVIDER
from provider_store.cli.params import DEADLINE, FRACTION, PERIOD
from provider_store.cli.text import visible
from provider_store.rules import EXIT_FAILED, EXIT_OK, iso_utc

if TYPE_CHECKING:
    from provider_store import Keeper, KeeperRefresh


def refresh_json(done: KeeperRefresh, at: float) -> dict[str, Any]:
    """One refresh as the JSON object ``refresh --json`` prints on a line of its own."""
    return {**dataclasses.asdict(done), "seconds": round(done.seconds, 3), "at": iso_utc(at)}


@cli.command("refresh")
@click.argument("providers", nargs=-1, type=PROVIDER)
@click.option(
    "--every",
    type=PERIOD,
    default=None,
    help="Refresh each provider this often: 30s, 15m, 1h or seconds (default: its cache TTL).",
)
@click.option("--once", is_flag=True, help="Refresh the providers due now, then exit (for cron).")
@click.option(
    "--jitter",
    type=FRACTION,
    default=0.1,
    show_default=True,
    help="Refresh up to this fraction (0 to below 1) of the period early, so refreshes spread out.",
)
@click.option("--no-validate", is_flag=True, help="Only list models; do not ping new ones.")
@click.option(
    "--deadline",
    type=DEADLINE,
    default=120.0,
    show_default=True,
    help="Give up on one provider's refresh after this span: 90s, 2m or seconds (at most 1d).",
)
@pass_state
def refresh(
    state: CliState,
    providers: tuple[str, ...],
    every: float | None,
    once: bool,
    jitter: float,
    no_validate: bool,
    deadline: float,
) -> None:
    """Keep model lists fresh: refresh each provider (or PROVIDER...) as it falls due.

    New models are pinged (not with --no-validate). Runs in the foreground
    until SIGTERM (exit 0) or Ctrl-C (exit 130), printing one line per
    refresh (failures on stderr; --json: one JSON object per line on stdout; -q: failures only).
    A provider falls due one period (``--every``, else its cache TTL) after its last
    refresh, a little earlier by a random jitter. Two keepers (on one host or many) never
    refresh the same provider at once: each refresh holds the provider's refresh lease.
    ``--once`` refreshes what is due now and exits, 1 when a refresh failed.
    """
    from provider_store import Keeper, ModelDiscoveryService

    store = state.store()

    def show(done: KeeperRefresh) -> None:
        if state.as_json:
            click.echo(json.dumps(refresh_json(done, time.time()), ensure_ascii=False))
        elif not done.ok or not output.quiet:
            click.echo(visible(done.line()), err=not done.ok)

    service = ModelDiscoveryService(store)
    keeper = Keeper(
        store,
        service,
        providers=providers,
        every=every,
        jitter=jitter,
        validate=not no_validate,
        deadline=deadline,
        on_refresh=show,
    )
    keeper.targets()  # an unknown PROVIDER is bad input before anything runs
    stop = threading.Event()
    if once:
        done = keeper.run_once(stop)
        service.close()
        sys.exit(EXIT_OK if all(r.ok for r in done) else EXIT_FAILED)
    terminated: list[int] = []

    def on_term(signum: int, _frame: FrameType | None) -> None:
        terminated.append(signum)
        stop.set()

    previous = signal.signal(signal.SIGTERM, on_term)
    try:
        keeper.run(stop)
    except KeyboardInterrupt:
        stop.set()
        busy = _busy(keeper)
        keeper.release_all()
        interrupted(at_once=busy)
    finally:
        signal.signal(signal.SIGTERM, previous)
    busy = _busy(keeper)
    keeper.release_all()
    note("keeper stopped")
    if not busy:
        service.close()
    leave(EXIT_OK, at_once=busy)


def _busy(keeper: Keeper) -> bool:
    """Whether a refresh may still be on the network in a worker thread: the exit does not wait
    for it (its lease is given back first)."""
    return keeper.busy or threading.active_count() > 1
