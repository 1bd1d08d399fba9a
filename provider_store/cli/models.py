"""``provider-store models list`` and ``show``, ``resolve`` and ``find``: the catalog's models."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import click

from provider_store.cli.app import (
    CliState,
    cli,
    json_option,
    open_manager,
    pass_state,
    print_json,
)
from provider_store.cli.app import note as hint
from provider_store.cli.hints import NO_PROVIDERS
from provider_store.cli.model_param import MODEL, PROVIDER, USABLE_MODEL
from provider_store.cli.params import CAPABILITY, count
from provider_store.cli.table_layout import render_table
from provider_store.cli.text import percent, visible
from provider_store.model_info import METADATA_FIELDS, ModelInfo
from provider_store.rules.limits import DAY_SECONDS
from provider_store.suggestions import unknown_provider

if TYPE_CHECKING:  # the tables (and SQLAlchemy) are imported only when a command reads them
    from provider_store import Sourced, ValidationResult
    from provider_store.store import ProviderStore


@cli.group()
def models() -> None:
    """List, show and curate the models of the catalog (aliases, hand marks, metadata)."""


@models.command("list")
@click.option(
    "--provider", "provider_key", type=PROVIDER, metavar="KEY", help="Only this provider's models."
)
@click.option(
    "--all",
    "show_all",
    is_flag=True,
    help="Also list invalid and discovered-but-unverified models, with their last verdict.",
)
@click.option(
    "--min-context",
    type=count(),
    metavar="N",
    help="Only models whose provider lists a context length of at least N tokens.",
)
@click.option(
    "--capability",
    "capabilities",
    type=CAPABILITY,
    multiple=True,
    help="Only models listed with this capability (tools, vision, reasoning ...); repeatable.",
)
@click.option(
    "--deprecated",
    "only_deprecated",
    is_flag=True,
    help="Only models a registry says are deprecated (or will be), with the date and source.",
)
@json_option
@pass_state
def models_list(
    state: CliState,
    provider_key: str | None,
    show_all: bool,
    min_context: int | None,
    capabilities: tuple[str, ...],
    only_deprecated: bool,
    as_json: bool,
) -> None:
    """List valid models as provider/model (alias); --all adds the rest with verdicts.

    --json adds what each provider listed about a model (context_length, max_output_tokens,
    input_price and output_price in USD per million tokens, capabilities, display_name; null
    when unknown). --min-context and --capability keep only models whose listed metadata
    matches; a model whose provider does not say is left out.
    """
    wanted_capabilities = {c.strip().lower() for c in capabilities}
    store = state.store()
    configs = store.load_configs()
    if not configs and not as_json:
        hint(NO_PROVIDERS)
        return
    if provider_key is not None:
        if provider_key not in configs:
            raise unknown_provider(provider_key, configs)
        configs = {provider_key: configs[provider_key]}
    rows: list[dict[str, Any]] = []
    for key, config in configs.items():
        verdicts = store.load_verdicts(key) if show_all else {}
        infos = store.list_model_infos(key)
        deprecations = _deprecations(store, key) if only_deprecated else {}
        entries: list[tuple[str, str | None, str]] = [
            (m, a if a != m else None, "valid") for m, a in config.valid_models.items()
        ]
        if show_all:
            entries += [(m, None, "invalid") for m in config.invalid_models]
            curated = set(config.valid_models) | set(config.invalid_models)
            for item in store.read_cache(key).models or []:
                model_id = item.get("id")
                if isinstance(model_id, str) and model_id not in curated:
                    curated.add(model_id)
                    entries.append((model_id, None, "unverified"))
        for model_id, alias, status in entries:
            info = infos.get(model_id, ModelInfo(id=model_id))
            if not _matches(info, min_context, wanted_capabilities):
                continue
            if only_deprecated and model_id not in deprecations:
                continue
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
            row.update(_metadata(info, listing=True))
            if only_deprecated:
                row["deprecation"] = deprecations[model_id]
            rows.append(row)
    if not rows and configs:
        hint("No models match the filters." if min_context or capabilities else "No models.")
    if as_json:
        print_json(rows)
        return
    if not rows:
        return
    columns = ["provider", "model", "alias"] + (["status", "verdict"] if show_all else [])
    columns += ["deprecation"] if only_deprecated else []
    cells = []
    for row in rows:
        line = [row["provider"], row["model"], row["alias"] or ""]
        if show_all:
            line += [row["status"], row["verdict"] or "-"]
        if only_deprecated:
            line.append(row["deprecation"])
        cells.append(line)
    # Aliases are typed from, never cut; in --all the verdicts matter more than the aliases.
    optional = (2,) if show_all else ()
    click.echo(render_table(columns, cells, whole=(0, 1, 2), optional=optional))


def _deprecations(store: ProviderStore, key: str) -> dict[str, str]:
    """The models of provider ``key`` that a registry says are deprecated, with its words."""
    found = store.models_metadata(key)
    notes = {model_id: _deprecation(meta.values) for model_id, meta in found.items()}
    return {model_id: note for model_id, note in notes.items() if note is not None}


def _matches(info: ModelInfo, min_context: int | None, capabilities: set[str]) -> bool:
    if min_context is not None and (info.context_length or 0) < min_context:
        return False
    return capabilities <= set(info.capabilities)


def _metadata(info: ModelInfo, *, listing: bool) -> dict[str, Any]:
    """The metadata keys of ``models show --json`` (of ``models list --json`` when ``listing``),
    null when the provider does not say."""
    return {
        f.name: f.to_plain(f.value_of(info)) for f in METADATA_FIELDS if f.in_list or not listing
    }


# -- show ------------------------------------------------------------------------------------------


@models.command("show")
@click.argument("model_ref", type=MODEL, metavar="MODEL")
@json_option
@pass_state
def models_show(state: CliState, model_ref: str, as_json: bool) -> None:
    """Show one model: its status, last verdict and what its provider lists about it.

    MODEL is provider/model, provider/alias, an alias or a model id. Prices are in USD per
    million tokens, created is a UTC date. --json adds the raw item of the provider's model list.
    """
    store = state.store()
    ref = open_manager(state).locate(model_ref)
    key, model_id = ref.provider, ref.model
    info = store.model_info(key, model_id)
    config = store.get_config(key)
    verdict = store.load_verdicts(key, models=[model_id]).get(model_id)
    alias = ref.alias
    if model_id in config.valid_models:
        status = "valid"
    elif model_id in config.invalid_models:
        status = "invalid"
    else:
        status = "unverified"
    hand_mark = store.hand_marks(key).get(model_id)
    week = store.model_stats(since=time.time() - 7 * DAY_SECONDS, provider=key, model=model_id)
    data: dict[str, Any] = {
        "provider": key,
        "model": model_id,
        "alias": alias,
        "status": status,
        "verdict": verdict.verdict.value if verdict else None,
        "verdict_reason": verdict.reason if verdict else None,
        "hand_mark": hand_mark,
        "usable": status == "valid",
        "why_not_usable": _why_not_usable(key, status, verdict),
        "last_latency_ms": week[0].as_json()["last_latency_ms"] if week else None,
        "availability_7d": week[0].as_json()["availability"] if week else None,
        "raw": dict(info.raw) or None,
    }
    from provider_store.cli.metadata_text import metadata_json, metadata_lines

    sourced = store.model_metadata(key, model_id)
    # Each metadata value reconciled from its sources (the user, the list, the registries).
    data.update(metadata_json(sourced))
    data["raw"] = data.pop("raw")
    deprecation = _deprecation(sourced.values)
    data["deprecation"] = deprecation
    if as_json:
        print_json(data)
        return
    shown = {**data, "availability_7d": percent(data["availability_7d"])}
    lines = [(name, "-" if shown[name] is None else str(shown[name])) for name in _SHOWN_FIRST]
    lines.extend(metadata_lines(sourced))
    if deprecation:
        lines.append(("deprecation", deprecation))
    width = max(len(name) for name, _text in lines)
    for name, text in lines:
        click.echo(f"{name:<{width}}  {visible(text)}")


def _deprecation(values: dict[str, Sourced]) -> str | None:
    """A registry's word on deprecation: ``deprecated (models.dev 1.0.398)``, or a date."""
    flag, when = values.get("deprecated"), values.get("deprecation_date")
    if when is not None:
        return f"deprecated from {when.value} ({when.source})"
    if flag is not None and flag.value:
        return f"deprecated ({flag.source})"
    return None


# What ``models show`` prints before the metadata fields.
_SHOWN_FIRST = (
    "provider",
    "model",
    "alias",
    "status",
    "verdict",
    "why_not_usable",
    "last_latency_ms",
    "availability_7d",
)


def _why_not_usable(key: str, status: str, verdict: ValidationResult | None) -> str | None:
    """Why a model is not offered (None for a valid one): its verdict, or that none exists."""
    if status == "valid":
        return None
    reason = f": {verdict.reason}" if verdict is not None and verdict.reason else ""
    if verdict is None:
        return f"unverified: listed but never validated (run: provider-store discover {key})"
    if verdict.reason.startswith("marked "):
        return verdict.reason
    from provider_store import Verdict

    if verdict.verdict is Verdict.INVALID:
        return f"pinged invalid{reason}"
    if verdict.verdict is Verdict.INCONCLUSIVE:
        return f"listed but inconclusive{reason}"
    return f"{status}{reason}"


# -- resolve / find -------------------------------------------------------------------------------


@cli.command()
@click.argument("model_string", type=USABLE_MODEL, metavar="MODEL")
@click.option(
    "--strict",
    is_flag=True,
    help="Refuse guesses (exit 2): a name several providers match, or an unknown provider prefix.",
)
@json_option
@pass_state
def resolve(state: CliState, model_string: str, strict: bool, as_json: bool) -> None:
    """Resolve MODEL (provider/model, provider/alias, an alias or a model id) to a valid model.

    When several providers match, the first wins and the others are listed. A prefix that is not
    a provider (nope/4o) is ignored and the rest looked up across providers, with a note. With
    --strict both are errors. An unknown model exits 2 and suggests the nearest models
    ("did you mean openai/gpt-4o-2024-08-06 (4o)?").
    """
    manager = open_manager(state)
    ref = manager.resolve(model_string, strict=strict)
    if as_json:
        config = manager[ref.provider]
        print_json(
            {
                "provider": ref.provider,
                "model": ref.model,
                "base_api_url": config.base_api_url,
                "candidates": list(ref.candidates),
            }
        )
        return
    click.echo(visible(str(ref)))
    if ref.skipped_prefix is not None:
        click.echo(
            f"Note: {visible(repr(ref.skipped_prefix))} is not a provider; looked up the rest"
            " across providers (--strict refuses this).",
            err=True,
        )
    if len(ref.candidates) > 1:
        click.echo(f"Note: also matches {visible(', '.join(ref.candidates[1:]))}", err=True)


@cli.command()
@click.argument("name", type=USABLE_MODEL, metavar="NAME")
@json_option
@pass_state
def find(state: CliState, name: str, as_json: bool) -> None:
    """Find NAME in every provider (exact id, alias, then substring, ignoring case).

    Lists each provider's best match as provider/model; PROVIDER/NAME looks in one provider.
    Nothing found is an unknown model: exit 2, with the nearest models suggested.
    """
    matches = [str(ref) for ref in open_manager(state).search(name)]
    if as_json:
        print_json(matches)
        return
    for match in matches:
        click.echo(visible(match))


# The curation verbs (models alias|mark|set ...) and models stats join the models group.
from provider_store.cli import aliases as _aliases  # noqa: E402,F401
from provider_store.cli import curation as _curation  # noqa: E402,F401
from provider_store.cli import model_stats as _model_stats  # noqa: E402,F401
