"""``provider-store set-ttl KEY SECONDS``: per-provider settings of the discovery cache."""

from __future__ import annotations

import click

from provider_store.cli.app import (
    SET_TTL_HELP,
    CliState,
    cli,
    json_option,
    pass_state,
    print_json,
    stdout,
)
from provider_store.cli.model_param import PROVIDER
from provider_store.cli.text import visible


@cli.command("set-ttl", help=SET_TTL_HELP)
@click.argument("key", type=PROVIDER)
@click.argument("seconds", type=int)
@json_option
@pass_state
def set_ttl(state: CliState, key: str, seconds: int, as_json: bool) -> None:
    """Set provider KEY's cache TTL; the range is checked by :func:`provider_store.rules.
    check_cache_ttl` before anything is written (exit 2, one line, when out of range)."""
    store = state.store()
    store.set_cache_ttl(key, seconds)
    if as_json:
        print_json({"provider": key, "cache_ttl_seconds": seconds})
        return
    stdout.print(visible(f"{key}: model list cache TTL set to {seconds} s"), markup=False)
