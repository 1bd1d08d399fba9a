"""``provider-store changes``: the catalog's change feed, newest first, one line per event."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import click

from provider_store import ChangeEvent, EventType
from provider_store.cli.app import CliState, cli, note, pass_state, print_json
from provider_store.cli.model_param import PROVIDER
from provider_store.cli.params import EVENT_TYPES, SINCE, count
from provider_store.cli.table_layout import feed_line, output_width
from provider_store.model_info import PRICE_FIELDS
from provider_store.rules import DEFAULT_CHANGES_LIMIT


def change_summary(events: Iterable[ChangeEvent]) -> str:
    """One line: ``+3 new, -1 removed, 2 price changes`` (``no changes`` when empty)."""
    counts: dict[str, int] = {}
    for event in events:
        if event.type is EventType.CHANGED:
            name = "price changes" if event.field in PRICE_FIELDS else "metadata changes"
        else:
            name = event.type.value
        counts[name] = counts.get(name, 0) + 1
    parts = []
    labels = (
        ("added", "+{} new"),
        ("removed", "-{} removed"),
        ("missing", "{} missing"),
        ("reappeared", "{} reappeared"),
        ("price changes", "{} price changes"),
        ("metadata changes", "{} metadata changes"),
        ("verdict", "{} verdict changes"),
    )
    for name, label in labels:
        if counts.get(name):
            parts.append(label.format(counts[name]))
    return ", ".join(parts) if parts else "no changes"


def event_line(event: ChangeEvent, width: int | None = None) -> str:
    """One event as one line (folded within ``width``, when given, never cut)."""
    when = event.at.strftime("%Y-%m-%d %H:%M")
    head = f"{when} {event.type.value:<10} {event.provider}/{event.model}"
    return feed_line(head, _detail(event), width)


def _detail(event: ChangeEvent) -> str:
    if event.type is EventType.CHANGED:
        return f"{event.field}: {_value(event.old)} -> {_value(event.new)}"
    if event.type is EventType.VERDICT:
        return f"{_value(event.old)} -> {_value(event.new)}: {event.reason or ''}".rstrip(": ")
    if event.type is EventType.MISSING:
        return f"absent from {event.new} complete listing(s)"
    if event.type is EventType.REMOVED:
        return f"was {event.old}"
    if event.type is EventType.REAPPEARED:
        return f"was {event.old}"
    return ""


def _value(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, list):
        return ",".join(str(v) for v in value) or "-"
    if isinstance(value, float | int) and not isinstance(value, bool):
        return f"{value:g}"
    return str(value)


@cli.command("changes")
@click.option("--since", type=SINCE, help="Only events from then on: 7d, 12h, 30m or ISO 8601.")
@click.option("--provider", type=PROVIDER, metavar="KEY", help="Only this provider's events.")
@click.option("--model", metavar="ID", help="Only this model's events.")
@click.option(
    "--type",
    "types",
    type=EVENT_TYPES,
    help="Only these types: added, missing, removed, reappeared, changed, verdict.",
)
@click.option("--limit", type=count(), default=DEFAULT_CHANGES_LIMIT, show_default=True)
@pass_state
def changes(
    state: CliState,
    since: float | None,
    provider: str | None,
    model: str | None,
    types: list[EventType] | None,
    limit: int,
) -> None:
    """Show what changed in the catalog, newest first.

    One line per event: models added, missing (absent from a complete listing), removed
    (confirmed), reappeared, metadata and price changes, verdict changes. On a terminal a long
    line folds; piped, every event stays on one line. An empty result says so on stderr.
    """
    events = state.store().changes(
        since=since, provider=provider, model=model, types=types, limit=limit
    )
    if state.as_json:
        print_json([event.as_json() for event in events])
    else:
        width = output_width()
        for event in events:
            click.echo(event_line(event, width))
    if not events:
        note("No changes" + (" match the filters." if since or provider or model or types else "."))
