"""``provider-store changes``: the catalog's change feed, newest first, one line per event."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import click

from provider_store.catalog.states import EventType, utc_now
from provider_store.cli.app import CliState, json_option, pass_state, print_json
from provider_store.cli.model_param import PROVIDER
from provider_store.cli.text import visible
from provider_store.history.change_event import ChangeEvent
from provider_store.history.listing_events import PRICE_FIELDS
from provider_store.rules.spans import span_seconds

LINE_WIDTH = 80


def parse_since(text: str, *, now: float | None = None) -> float:
    """``7d``, ``12h``, ``30m``, ``90s``, ``2w`` ago, or an ISO 8601 time (UTC when naive)."""
    seconds = span_seconds(text)
    if seconds is not None:
        return (utc_now() if now is None else now) - seconds
    try:
        when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(
            f"{text!r} is neither a span (7d, 12h, 30m) nor an ISO 8601 time", param_hint="--since"
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.timestamp()


def parse_types(text: str | None) -> list[EventType] | None:
    """A comma-separated list of event types; BadParameter names an unknown one."""
    if not text:
        return None
    types: list[EventType] = []
    for name in (part.strip().lower() for part in text.split(",")):
        if not name:
            continue
        try:
            types.append(EventType(name))
        except ValueError:
            known = ", ".join(t.value for t in EventType)
            raise click.BadParameter(
                f"unknown event type {name!r} (one of {known})", param_hint="--type"
            ) from None
    return types


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


def event_line(event: ChangeEvent, width: int = LINE_WIDTH) -> str:
    """One event as one line of at most ``width`` characters."""
    when = event.at.strftime("%Y-%m-%d %H:%M")
    head = f"{when} {event.type.value:<10} {event.provider}/{event.model}"
    detail = _detail(event)
    line = visible(f"{head}  {detail}" if detail else head)
    return line if len(line) <= width else line[: width - 1] + "…"


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


@click.command("changes")
@click.option("--since", "since_text", metavar="SPAN|TIME", help="7d, 12h, 30m or ISO 8601.")
@click.option("--provider", type=PROVIDER, metavar="KEY", help="Only this provider's events.")
@click.option("--model", metavar="ID", help="Only this model's events.")
@click.option(
    "--type",
    "types_text",
    metavar="T1,T2",
    help="Only these types: added, missing, removed, reappeared, changed, verdict.",
)
@click.option("--limit", type=click.IntRange(min=1), default=1000, show_default=True)
@json_option
@pass_state
def changes(
    state: CliState,
    since_text: str | None,
    provider: str | None,
    model: str | None,
    types_text: str | None,
    limit: int,
    as_json: bool,
) -> None:
    """Show what changed in the catalog, newest first.

    One line per event: models added, missing (absent from a complete listing), removed
    (confirmed), reappeared, metadata and price changes, verdict changes.
    """
    since = parse_since(since_text) if since_text else None
    types = parse_types(types_text)
    events = state.store().changes(
        since=since, provider=provider, model=model, types=types, limit=limit
    )
    if as_json:
        print_json([event.as_json() for event in events])
        return
    if not events:
        click.echo("No changes.")
        return
    for event in events:
        click.echo(event_line(event))
