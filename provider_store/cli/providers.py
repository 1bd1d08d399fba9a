"""``provider-store providers list``: the providers of the catalog.

API keys are never printed: the listing says only whether a key is stored, comes from the
environment, or is missing.
"""

from __future__ import annotations

import time
from typing import Any

import click

from provider_store.cli.app import (
    CliState,
    cli,
    json_option,
    pass_state,
    print_json,
)
from provider_store.cli.hints import (
    KEY_REFUSED,
    KEY_REJECTED_PROBLEM,
    NO_PROVIDERS,
    key_origin,
    key_source,
)
from provider_store.cli.table_layout import output_width, render_table
from provider_store.cli.text import iso_time, visible

# From this many columns on, ``providers list`` also shows each provider's display name.
WIDE_LAYOUT = 120


# The times of ``--json``, given as ISO 8601 in UTC like every other time the CLI prints.
_TIMES = ("fetched_at", "last_error_at", "problem_at")


def _age(seconds_since: float | None) -> str:
    if seconds_since is None:
        return "never"
    age = max(0.0, time.time() - seconds_since)
    if age < 120:
        return f"{age:.0f}s ago"
    if age < 7200:
        return f"{age / 60:.0f}m ago"
    return f"{age / 3600:.1f}h ago"


@cli.group()
def providers() -> None:
    """List, add, change, rename and remove the providers of the catalog."""


@providers.command("list")
@json_option
@pass_state
def providers_list(state: CliState, as_json: bool) -> None:
    """List providers with their URL, model counts, key source and discovery cache state.

    Why the last refresh failed, and a provider problem seen while validating (a rejected key,
    no credit), are shown on one line each below the table; a refused key says where it came
    from. --json gives times as ISO 8601 in UTC.
    """
    store = state.store()
    rows: list[dict[str, Any]] = []
    refused: dict[str, str] = {}  # provider -> where the key it refused came from
    for key, config in store.load_configs().items():
        cache = store.read_cache(key)
        source, variable = key_source(key, config)
        problem, problem_at = store.read_problem(key)
        if cache.last_error_status in KEY_REFUSED or (problem or "").startswith(
            KEY_REJECTED_PROBLEM
        ):
            refused[key] = key_origin(key, config)
        rows.append(
            {
                "key": key,
                "name": config.name,
                "base_api_url": config.base_api_url,
                "api_key": source,
                "api_key_env": variable,
                "valid_models": len(config.valid_models),
                "invalid_models": len(config.invalid_models),
                "discovered": len(cache.models or []),
                "fetched_at": cache.fetched_at,
                "cache_ttl_seconds": cache.ttl_seconds,
                "last_error": cache.last_error,
                "last_error_at": cache.last_error_at,
                "problem": problem,
                "problem_at": problem_at,
            }
        )
    if as_json:
        print_json([{**row, **{name: iso_time(row[name]) for name in _TIMES}} for row in rows])
        return
    if not rows:
        click.echo(NO_PROVIDERS, err=True)
        return
    # Narrow terminals drop the display name (the key is what users type) and fold the URL.
    wide = output_width() >= WIDE_LAYOUT
    headers = ["key", "api key", "valid", "invalid", "models", "fetched", "base URL"]
    if wide:
        headers.insert(1, "name")
    cells = []
    for row in rows:
        fetched = _age(row["fetched_at"]) + (" (refresh failed)" if row["last_error"] else "")
        line = [
            row["key"],
            row["api_key"] + (f" ${row['api_key_env']}" if row["api_key_env"] else ""),
            row["valid_models"],
            row["invalid_models"],
            row["discovered"],
            fetched,
            row["base_api_url"],
        ]
        if wide:
            line.insert(1, row["name"])
        cells.append(line)
    numeric = range(3, 6) if wide else range(2, 5)
    click.echo(render_table(headers, cells, numeric=numeric, breakable=(len(headers) - 1,)))
    for row in rows:
        origin = f" ({refused[row['key']]})" if row["key"] in refused else ""
        if row["last_error"]:
            click.echo(
                f"{visible(row['key'])}: last refresh failed ({_age(row['last_error_at'])}): "
                f"{visible(row['last_error'])}{origin}"
            )
        if row["problem"]:
            click.echo(
                f"{visible(row['key'])}: provider problem ({_age(row['problem_at'])}): "
                f"{visible(row['problem'])}{origin}"
            )


# The editing verbs (providers add|set|remove|rename) join the providers group.
from provider_store.cli import curation as _curation  # noqa: E402,F401
