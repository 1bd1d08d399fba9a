"""``provider-store providers|models|discover|resolve|find``: browse and refresh the catalog.

API keys are never printed: listings say only whether a key is stored, comes from the
environment, or is missing.
"""

from __future__ import annotations

import os
import time
from typing import Any

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn
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
from provider_store.config import NOT_CONFIGURED_SUFFIX, ProviderConfig, env_var_for
from provider_store.discovery_report import DiscoveryReport, ProgressEvent
from provider_store.errors import AmbiguousModelError, NotFoundError
from provider_store.manager import ProviderManager

BAD_INPUT = 2
FAILED = 1


def _manager(state: CliState) -> ProviderManager:
    return ProviderManager(store=state.store())


def _key_source(key: str, config: ProviderConfig) -> str:
    """Where the provider's key comes from: stored, env, or missing (never the key itself)."""
    if config.api_key and not config.api_key.endswith(NOT_CONFIGURED_SUFFIX):
        return "stored"
    return "env" if os.environ.get(env_var_for(key), "").strip() else "missing"


def _age(seconds_since: float | None) -> str:
    if seconds_since is None:
        return "never"
    age = max(0.0, time.time() - seconds_since)
    if age < 120:
        return f"{age:.0f}s ago"
    if age < 7200:
        return f"{age / 60:.0f}m ago"
    return f"{age / 3600:.1f}h ago"


# -- providers ------------------------------------------------------------------------------------


@cli.group()
def providers() -> None:
    """List the providers of the catalog."""


@providers.command("list")
@json_option
@pass_state
def providers_list(state: CliState, as_json: bool) -> None:
    """List providers with their URL, model counts, key source and discovery cache state."""
    store = state.store()
    rows: list[dict[str, Any]] = []
    for key, config in store.load_configs().items():
        cache = store.read_cache(key)
        rows.append(
            {
                "key": key,
                "name": config.name,
                "base_api_url": config.base_api_url,
                "api_key": _key_source(key, config),
                "valid_models": len(config.valid_models),
                "invalid_models": len(config.invalid_models),
                "discovered": len(cache.models or []),
                "fetched_at": cache.fetched_at,
                "cache_ttl_seconds": cache.ttl_seconds,
                "last_error": cache.last_error,
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
            row["api_key"],
            str(row["valid_models"]),
            str(row["invalid_models"]),
            str(row["discovered"]),
            _age(row["fetched_at"]) + (" (last refresh failed)" if row["last_error"] else ""),
        )
    stdout.print(table)


# -- models ---------------------------------------------------------------------------------------


@cli.group()
def models() -> None:
    """List the models of the catalog."""


@models.command("list")
@click.option("--provider", "provider_key", metavar="KEY", help="Only this provider's models.")
@click.option(
    "--all",
    "show_all",
    is_flag=True,
    help="Also list invalid and discovered-but-unverified models, with their last verdict.",
)
@json_option
@pass_state
def models_list(state: CliState, provider_key: str | None, show_all: bool, as_json: bool) -> None:
    """List valid models as provider/model (alias); --all adds the rest with verdicts."""
    store = state.store()
    configs = store.load_configs()
    if provider_key is not None:
        if provider_key not in configs:
            raise NotFoundError(f"Unknown provider: {provider_key}")
        configs = {provider_key: configs[provider_key]}
    rows: list[dict[str, Any]] = []
    for key, config in configs.items():
        verdicts = store.load_verdicts(key) if show_all else {}
        entries = [(m, a, "valid") for m, a in config.valid_models.items()]
        if show_all:
            entries += [(m, m, "invalid") for m in config.invalid_models]
            curated = set(config.valid_models) | set(config.invalid_models)
            for item in store.read_cache(key).models or []:
                model_id = item.get("id")
                if isinstance(model_id, str) and model_id not in curated:
                    curated.add(model_id)
                    entries.append((model_id, model_id, "unverified"))
        for model_id, alias, status in entries:
            row: dict[str, Any] = {
                "provider": key,
                "model": model_id,
                "alias": alias,
                "status": status,
            }
            if show_all:
                verdict = verdicts.get(model_id)
                row["verdict"] = verdict.verdict.value if verdict else None
                row["verdict_reason"] = verdict.reason if verdict else None
            rows.append(row)
    if as_json:
        print_json(rows)
        return
    columns = ["provider", "model", "alias"] + (["status", "verdict"] if show_all else [])
    table = Table(*columns)
    for row in rows:
        cells = [row["provider"], row["model"], row["alias"]]
        if show_all:
            cells += [row["status"], row["verdict"] or "-"]
        table.add_row(*cells)
    stdout.print(table)


# -- discover -------------------------------------------------------------------------------------


class _Bars:
    """One rich progress bar per provider, fed by the orchestration's progress events."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.tasks: dict[str, TaskID] = {}

    def __call__(self, event: ProgressEvent) -> None:
        task = self.tasks.get(event.provider)
        if task is None:
            task = self.progress.add_task(event.provider, total=None, status="starting")
            self.tasks[event.provider] = task
        if event.phase == "discovering":
            self.progress.update(task, status="listing models")
        elif event.phase == "validating":
            self.progress.update(
                task, total=event.total, completed=event.completed, status="validating"
            )
        elif event.summary is not None:
            total = self.progress.tasks[task].total or 1
            self.progress.update(task, total=total, completed=total, status=event.summary.status)


@cli.command()
@click.argument("provider", required=False)
@click.option("--force-refresh", is_flag=True, help="Ignore fresh caches and stored verdicts.")
@click.option("--no-validate", is_flag=True, help="Only list models; do not ping them.")
@click.option(
    "--concurrency",
    type=click.IntRange(min=1),
    default=None,
    help="At most N requests in flight over all providers (default 32).",
)
@click.option(
    "--per-provider",
    type=click.IntRange(min=1),
    default=None,
    help="At most N pings in flight per provider (default 4).",
)
@click.option(
    "--deadline",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="Give up on unfinished work after this many seconds (default 300).",
)
@json_option
@pass_state
@click.pass_context
def discover(
    ctx: click.Context,
    state: CliState,
    provider: str | None,
    force_refresh: bool,
    no_validate: bool,
    concurrency: int | None,
    per_provider: int | None,
    deadline: float | None,
    as_json: bool,
) -> None:
    """Discover (and validate) the models of every provider, or only PROVIDER.

    Providers without a usable key are skipped. Results are saved only when every targeted
    provider could be discovered; exit code 1 when one could not.
    """
    manager = _manager(state)
    if provider is not None and not any(k.lower() == provider.lower() for k in manager):
        raise NotFoundError(f"Unknown provider: {provider}")
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[status]}"),
        console=stderr,
        transient=as_json,
        disable=not stderr.is_terminal,
    )
    with progress:
        report = manager.discover(
            force_refresh=force_refresh,
            provider=provider,
            validate=not no_validate,
            concurrency=concurrency,
            per_provider=per_provider,
            deadline=deadline,
            progress=_Bars(progress),
        )
    manager.close()
    if as_json:
        print_json(report.as_dict())
    else:
        _print_report(report)
    if not report.ok:
        ctx.exit(FAILED)


def _print_report(report: DiscoveryReport) -> None:
    table = Table(
        "provider", "status", "discovered", "valid", "invalid", "inconclusive", "source", "error"
    )
    for s in report.providers:
        table.add_row(
            s.provider,
            s.status,
            str(s.discovered),
            str(s.valid),
            str(s.invalid),
            str(s.inconclusive),
            s.source or "-",
            s.error or "",
        )
    stdout.print(table)
    saved = "saved" if report.persisted else "not saved"
    stdout.print(f"{len(report.providers)} provider(s) in {report.seconds:.1f}s; results {saved}.")


# -- resolve / find -------------------------------------------------------------------------------


@cli.command()
@click.argument("model_string")
@click.option("--strict", is_flag=True, help="Fail (exit 2) when several providers match.")
@json_option
@pass_state
@click.pass_context
def resolve(
    ctx: click.Context, state: CliState, model_string: str, strict: bool, as_json: bool
) -> None:
    """Resolve MODEL_STRING (provider/model, a long id or a short alias) to provider and model.

    When several providers match, the first wins and the others are listed (or, with --strict,
    the command fails listing them all).
    """
    manager = _manager(state)
    try:
        config, long_name = manager.get_api_for_model_string(model_string, strict=strict)
    except AmbiguousModelError:
        raise  # one line and exit 2, from the entry point
    except ValueError as exc:
        stderr.print(f"Error: {exc}", markup=False)
        ctx.exit(BAD_INPUT)
    key = config._provider_key or ""
    candidates = manager.resolution_candidates(model_string)
    if as_json:
        print_json(
            {
                "provider": key,
                "model": long_name,
                "base_api_url": config.base_api_url,
                "candidates": candidates or [f"{key}/{long_name}"],
            }
        )
        return
    stdout.print(f"{key}/{long_name}", markup=False)
    if len(candidates) > 1:
        stderr.print(f"Note: also matches {', '.join(candidates[1:])}", markup=False)


@cli.command()
@click.argument("name")
@json_option
@pass_state
@click.pass_context
def find(ctx: click.Context, state: CliState, name: str, as_json: bool) -> None:
    """Find NAME in every provider (exact id, alias, then substring, ignoring case).

    Lists each provider's best match as provider/model; exit code 1 when nothing matches.
    """
    matches = _manager(state).find_model_scoped(name)
    if as_json:
        print_json(matches)
    else:
        for match in matches:
            stdout.print(match, markup=False)
        if not matches:
            stderr.print(f"No model matches {name!r}.", markup=False)
    if not matches:
        ctx.exit(FAILED)
