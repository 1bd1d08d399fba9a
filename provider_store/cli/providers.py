"""``provider-store providers list|show``: the providers of the catalog.

API keys are never printed: the listing says only whether a key is stored, comes from the
environment, or is missing (:func:`~provider_store.cli.hints.key_source_text`). Both read
:meth:`ProviderStore.all_provider_details` / :meth:`~ProviderStore.provider_details`, whose
JSON (``--json``) is also what ``providers add|set|rename`` report.
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING

import click

from provider_store.cli.app import CliState, cli, note, pass_state, print_json, report
from provider_store.cli.hints import (
    KEY_REFUSED,
    KEY_REJECTED_PROBLEM,
    NO_PROVIDERS,
    key_source_text,
)
from provider_store.cli.model_param import PROVIDER
from provider_store.cli.table_layout import output_width, render_table
from provider_store.cli.text import span_text, visible

if TYPE_CHECKING:
    from provider_store import ProviderDetails

# From this many columns on, ``providers list`` also shows each provider's display name.
WIDE_LAYOUT = 120


def _age(seconds_since: float | None) -> str:
    if seconds_since is None:
        return "never"
    age = max(0.0, time.time() - seconds_since)
    if age < 120:
        return f"{age:.0f}s ago"
    if age < 7200:
        return f"{age / 60:.0f}m ago"
    return f"{age / 3600:.1f}h ago"


def _origin(details: ProviderDetails) -> str:
    """Where the key a provider refused came from, for the line about it ("" when the key was
    not refused)."""
    refused = details.last_error_status in KEY_REFUSED or (details.problem or "").startswith(
        KEY_REJECTED_PROBLEM
    )
    if not refused or details.key_source in ("keyless", "missing"):
        return ""
    if details.key_source == "stored":
        return " (key stored in the catalog)"
    return f" (key from ${details.key_variable})"


def report_provider(state: CliState, key: str, text: str) -> None:
    """A write's report about provider ``key``: its details as JSON with --json, else
    ``text``."""
    data = state.store().provider_details(key).as_json() if state.as_json else None
    report(state.as_json, data, text)


@cli.group()
def providers() -> None:
    """List, show, add, change, rename and remove the providers of the catalog."""


@providers.command("list")
@pass_state
def providers_list(state: CliState) -> None:
    """List providers with their URL, model counts, key source and discovery cache state.

    Why the last refresh failed, and a provider problem seen while validating (a rejected key,
    no credit), are shown on one line each below the table; a refused key says where it came
    from. --json gives every setting too (kind, options, TTL, removal policy), as providers
    show does.
    """
    rows = state.store().all_provider_details()
    if state.as_json:
        print_json([details.as_json() for details in rows])
        return
    if not rows:
        note(NO_PROVIDERS)
        return
    # Narrow terminals drop the display name (the key is what users type) and fold the URL.
    wide = (output_width() or WIDE_LAYOUT) >= WIDE_LAYOUT
    headers = ["key", "api key", "valid", "invalid", "models", "fetched", "base URL"]
    if wide:
        headers.insert(1, "name")
    cells = []
    for row in rows:
        fetched = _age(row.fetched_at) + (" (refresh failed)" if row.last_error else "")
        line: list[object] = [
            row.key,
            key_source_text(row.key_source, row.key_variable),
            row.valid_models,
            row.invalid_models,
            row.discovered,
            fetched,
            row.base_api_url,
        ]
        if wide:
            line.insert(1, row.name)
        cells.append(line)
    numeric = range(3, 6) if wide else range(2, 5)
    click.echo(render_table(headers, cells, numeric=numeric, breakable=(len(headers) - 1,)))
    for row in rows:
        for trouble in _trouble(row):
            click.echo(trouble)


def _trouble(row: ProviderDetails) -> list[str]:
    """One line for a failed last refresh and one for a provider problem, each saying when."""
    lines = []
    origin = _origin(row)
    if row.last_error:
        lines.append(
            f"{visible(row.key)}: last refresh failed ({_age(row.last_error_at)}): "
            f"{visible(row.last_error)}{origin}"
        )
    if row.problem:
        lines.append(
            f"{visible(row.key)}: provider problem ({_age(row.problem_at)}): "
            f"{visible(row.problem)}{origin}"
        )
    return lines


@providers.command("show")
@click.argument("key", type=PROVIDER)
@pass_state
def providers_show(state: CliState, key: str) -> None:
    """Show provider KEY: kind, options, cache TTL, removal policy, where its API key comes
    from (never the key), model counts, last refresh and its error, provider problem."""
    details = state.store().provider_details(key)
    if state.as_json:
        print_json(details.as_json())
        return
    options = ", ".join(
        f"{name}={value if isinstance(value, str) else json.dumps(value)}"
        for name, value in sorted(details.options.items())
    )
    fetched = _age(details.fetched_at)
    lines = [
        ("provider", details.key),
        ("name", details.name),
        ("base URL", details.base_api_url),
        ("kind", details.kind),
        ("options", options or "-"),
        ("api key", key_source_text(details.key_source, details.key_variable)),
        ("cache TTL", span_text(details.cache_ttl_seconds)),
        (
            "removal",
            f"after {details.removal_confirmations} complete listings without the model, and"
            f" {span_text(details.removal_min_age_seconds)}",
        ),
        (
            "models",
            f"{details.valid_models} valid, {details.invalid_models} invalid;"
            f" {details.discovered} listed, {details.unverified} of them unverified",
        ),
        ("fetched", fetched),
        ("last error", _when(details.last_error, details.last_error_at)),
        ("problem", _when(details.problem, details.problem_at)),
    ]
    width = max(len(name) for name, _ in lines)
    for name, value in lines:
        click.echo(f"{name:<{width}}  {visible(value)}")
    origin = _origin(details)
    if origin:
        click.echo(f"{visible(details.key)}: the key was refused{origin}")


def _when(text: str | None, at: float | None) -> str:
    return "-" if not text else f"{text} ({_age(at)})"


# The editing verbs (providers add|set|remove|rename) join the providers group.
from provider_store.cli import curation as _curation  # noqa: E402,F401
