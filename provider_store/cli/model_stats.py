"""``provider-store models stats``: ping statistics per model (availability, p50/p95 latency)."""

from __future__ import annotations

import click

from provider_store.cli.app import CliState, json_option, note, open_manager, pass_state, print_json
from provider_store.cli.model_param import MODEL
from provider_store.cli.models import models
from provider_store.cli.params import SINCE
from provider_store.cli.table_layout import render_table
from provider_store.cli.text import percent
from provider_store.errors import UnknownModelError
from provider_store.suggestions import nearest


@models.command("stats")
@click.argument("model_ref", type=MODEL, metavar="[PROVIDER|MODEL]", required=False)
@click.option(
    "--since", type=SINCE, default="7d", show_default=True, help="From then on: 7d or ISO 8601."
)
@json_option
@pass_state
def models_stats(state: CliState, model_ref: str | None, since: float, as_json: bool) -> None:
    """Ping statistics per model: pings, availability, p50/p95 latency (ms).

    Of every model, one provider's (PROVIDER or PROVIDER/), or one MODEL: provider/model,
    provider/alias, an alias or a model id (a provider key wins over a model of that name).
    Availability is the share of pings that got a chat answer. --since takes 7d, 12h, 30m or
    an ISO 8601 time; every ping from that instant on counts. Pings, availability and the last
    ping are exact; p50/p95 come from a log-scale latency histogram (8 buckets per doubling)
    and are within 4.5% of the exact nearest-rank value between 1 ms and 116 s, and never
    outside the smallest and largest latency measured.
    """
    store = state.store()
    provider, model_id = _target(state, model_ref) if model_ref else (None, None)
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


def _target(state: CliState, text: str) -> tuple[str, str | None]:
    """``(provider, model)`` that ``text`` names: a provider key (model None; a trailing slash
    allowed), a model the catalog holds, or a ``provider/model`` with pings on record (its
    provider renamed or removed since). A miss also suggests the provider keys near it."""
    store = state.store()
    keys = store.provider_keys()
    head = text.removesuffix("/").lower()
    provider = next((k for k in keys if k.lower() == head), None)
    if provider is not None:
        return provider, None
    try:
        ref = open_manager(state).locate(text)
    except UnknownModelError as exc:
        key, _slash, model = text.partition("/")
        if model and store.model_stats(provider=key, model=model):
            return key, model
        near = [k for k in nearest(text, keys) if k not in exc.suggestions]
        if "/" in text or not near:
            raise
        raise UnknownModelError(
            exc.reason, model_string=text, suggestions=(near + exc.suggestions)[:3]
        ) from None
    return ref.provider, ref.model


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"
