"""``provider-store set-ttl KEY SECONDS``: per-provider settings of the discovery cache."""

from __future__ import annotations

import click

from provider_store.cli.app import CliState, cli, json_option, pass_state, print_json, stdout


@cli.command("set-ttl")
@click.argument("key")
@click.argument("seconds", type=click.IntRange(min=0))
@json_option
@pass_state
def set_ttl(state: CliState, key: str, seconds: int, as_json: bool) -> None:
    """Keep provider KEY's discovered model list fresh for SECONDS (default 300; 0: always ask)."""
    store = state.store()
    store.set_cache_ttl(key, seconds)
    if as_json:
        print_json({"provider": key, "cache_ttl_seconds": seconds})
        return
    stdout.print(f"{key}: model list cache TTL set to {seconds} s", markup=False)
