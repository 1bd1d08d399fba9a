"""``provider-store providers list``: the providers of the catalog.

API keys are never printed: the listing says only whether a key is stored, comes from the
environment, or is missing.
"""

from __future__ import annotations

import os
import time
from typing import Any

from rich.table import Table

from provider_store.cli.app import (
    CliState,
    cli,
    json_option,
    pass_state,
    print_json,
    stderr,
    stdout,
)
from provider_store.provider_config import (
    NOT_CONFIGURED_SUFFIX,
    ProviderConfig,
    env_var_for,
    env_var_in_use,
)


def _key_source(key: str, config: ProviderConfig) -> tuple[str, str | None]:
    """Where the key comes from (stored, env, missing) and the variable that does or would
    supply it (never the key itself)."""
    if config.api_key and not config.api_key.endswith(NOT_CONFIGURED_SUFFIX):
        return "stored", None
    in_use = env_var_in_use(key, os.environ)
    return ("env", in_use) if in_use else ("missing", env_var_for(key))


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
    """List the providers of the catalog."""


@providers.command("list")
@json_option
@pass_state
def providers_list(state: CliState, as_json: bool) -> None:
    """List providers with their URL, model counts, key source and discovery cache state.

    A provider problem seen while validating (a rejected key, no credit) is shown on one line
    below the table.
    """
    store = state.store()
    rows: list[dict[str, Any]] = []
    for key, config in store.load_configs().items():
        cache = store.read_cache(key)
        source, variable = _key_source(key, config)
        problem, problem_at = store.read_problem(key)
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
                "problem": problem,
                "problem_at": problem_at,
            }
        )
    if as_json:
        print_json(rows)
        return
    if not rows:
        stderr.print("No providers. Add some with `provider-store import FILE`.")
        return
    table = Table("key", "name", "base URL", "api key", "valid", "invalid", "discovered", "fetched")
    for row in rows:
        table.add_row(
            row["key"],
            row["name"],
            row["base_api_url"],
            row["api_key"] + (f" ${row['api_key_env']}" if row["api_key_env"] else ""),
            str(row["valid_models"]),
            str(row["invalid_models"]),
            str(row["discovered"]),
            _age(row["fetched_at"]) + (" (last refresh failed)" if row["last_error"] else ""),
        )
    stdout.print(table)
    for row in rows:
        if row["problem"]:
            stdout.print(
                f"{row['key']}: provider problem ({_age(row['problem_at'])}): {row['problem']}",
                markup=False,
                highlight=False,
                soft_wrap=True,
            )
