"""``provider-store models list``, ``resolve`` and ``find``: the catalog's models."""

from __future__ import annotations

from typing import Any

import click
from rich.table import Table

from provider_store.cli.app import (
    CliState,
    cli,
    json_option,
    open_manager,
    pass_state,
    print_json,
    stderr,
    stdout,
)
from provider_store.suggestions import unknown_provider

FAILED = 1


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
            raise unknown_provider(provider_key, configs)
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


# -- resolve / find -------------------------------------------------------------------------------


@cli.command()
@click.argument("model_string")
@click.option(
    "--strict",
    is_flag=True,
    help="Refuse guesses (exit 2): a name several providers match, or an unknown provider prefix.",
)
@json_option
@pass_state
def resolve(state: CliState, model_string: str, strict: bool, as_json: bool) -> None:
    """Resolve MODEL_STRING (provider/model, a long id or a short alias) to provider and model.

    When several providers match, the first wins and the others are listed. A prefix that is not
    a provider (nope/4o) is ignored and the rest looked up across providers, with a note. With
    --strict both are errors. An unknown model exits 2 and suggests the nearest models
    ("did you mean openai/gpt-4o-2024-08-06 (4o)?").
    """
    manager = open_manager(state)
    config, long_name = manager.get_api_for_model_string(model_string, strict=strict)
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
    ignored = manager.unknown_prefix(model_string)
    if ignored is not None:
        stderr.print(
            f"Note: {ignored!r} is not a provider; looked up the rest across providers "
            "(--strict refuses this).",
            markup=False,
        )
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
    matches = open_manager(state).find_model_scoped(name)
    if as_json:
        print_json(matches)
    else:
        for match in matches:
            stdout.print(match, markup=False)
        if not matches:
            stderr.print(f"No model matches {name!r}.", markup=False)
    if not matches:
        ctx.exit(FAILED)
