"""``provider-store set-ttl KEY SPAN``: the hidden alias of ``providers set KEY --ttl SPAN``."""

from __future__ import annotations

import click

from provider_store.cli.app import CliState, cli, pass_state
from provider_store.cli.model_param import PROVIDER
from provider_store.cli.params import TTL
from provider_store.cli.providers import report_provider
from provider_store.cli.text import span_text


@cli.command("set-ttl", hidden=True)
@click.argument("key", type=PROVIDER)
@click.argument("ttl", metavar="SPAN", type=TTL)
@pass_state
def set_ttl(state: CliState, key: str, ttl: int) -> None:
    """The same as providers set KEY --ttl SPAN (kept for scripts; hidden).

    SPAN is how long provider KEY's discovered model list stays fresh: 90s, 15m, 2h, 7d, 1w,
    or a bare number of seconds (0: always ask).
    """
    state.store().update_provider(key, cache_ttl=ttl)
    report_provider(state, key, f"Updated provider {key}: model list cache TTL {span_text(ttl)}.")
