"""``provider-store models stats``: ping statistics per model (availability, p50/p95 latency)."""

from __future__ import annotations

import click

from provider_store.cli.app import CliState, json_option, note, pass_state, print_json
from provider_store.cli.models import models, split_model_ref
from provider_store.cli.params import SINCE
from provider_store.cli.table_layout import render_table
from provider_store.cli.text import percent
from provider_store.suggestions import unknown_provider


@models.command("stats")
@click.argument("model_ref", metavar="[PROVIDER[/MODEL]]", required=False)
@click.option(
    "--since", type=SINCE, default="7d", show_default=True, help="From then on: 7d or ISO 8601."
)
@json_option
@pass_state
def models_stats(state: CliState, model_ref: str | None, since: float, as_json: bool) -> None:
    """Ping statistics per model: pings, availability, p50/p95 latency (ms).

    Availability is the share of pings that got a chat answer. --since takes 7d, 12h, 30m or
    an ISO 8601 time; every ping from that instant on counts. Pings, availability and the last
    ping are exact; p50/p95 come from a log-scale latency histogram (8 buckets per doubling)
    and are within 4.5% of the exact nearest-rank value between 1 ms and 116 s, and never
    outside the smallest and largest latency measured.
    """
    store = state.store()
    provider: str | None = None
    model_id: str | None = None
    if model_ref:
        keys = store.provider_keys()
        if "/" in model_ref:
            provider, model_id = split_model_ref(model_ref, keys)
        else:
            provider = next((k for k in keys if k.lower() == model_ref.lower()), None)
            if provider is None:
                raise unknown_provider(model_ref, keys)
    stats = store.model_stats(since=since, provider=provider, model=model_id)
    if as_json:
        print_json([s.as_json() for s in stats])
    if not stats:
        note("No pings recorded.")
    if as_json or not stats:
        return
    rows = [
        [
            f"{s.provider}/{s.model}",
            str(s.count),
            percent(s.availability),
            _ms(s.p50_ms),
            _ms(s.p95_ms),
        ]
        for s in stats
    ]
    click.echo(
        render_table(["model", "pings", "avail", "p50 ms", "p95 ms"], rows, numeric=range(1, 5))
    )


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"
