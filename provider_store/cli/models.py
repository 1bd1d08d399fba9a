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
from provider_store.cli.params import CAPABILITY, PRICE, count
from provider_store.cli.table_layout import render_table
from provider_store.cli.text import percent, visible
from provider_store.model_info import METADATA_FIELDS
from provider_store.rules.limits import DAY_SECONDS
from provider_store.suggestions import unknown_provider

if TYPE_CHECKING:  # the tables (and SQLAlchemy) are imported only when a command reads them
    from provider_store import ModelView
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
    help="Only models with a context length of at least N tokens.",
)
@click.option(
    "--capability",
    "capabilities",
    type=CAPABILITY,
    multiple=True,
    help="Only models with this capability (tools, vision, reasoning ...); repeatable.",
)
@click.option(
    "--max-input-price",
    type=PRICE,
    metavar="USD",
    help="Only models whose input price is at most USD per million tokens.",
)
@click.option(
    "--max-output-price",
    type=PRICE,
    metavar="USD",
    help="Only models whose output price is at most USD per million tokens.",
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
    max_input_price: float | None,
    max_output_price: float | None,
    only_deprecated: bool,
    as_json: bool,
) -> None:
    """List valid models as provider/model (alias); --all adds the rest with verdicts.

    Each model's context length, prices (USD per million tokens) and capabilities are shown
    with their source, as models show gives them: your own value (models set), then what the
    provider lists, then the registries. A model missing from its provider's last listing
    (not yet confirmed removed) has status missing, with the reason. --json gives every field
    (null when unknown) and its source. The filters read the same values; a model whose value
    is unknown is left out.
    """
    from provider_store import model_views, select_views

    store = state.store()
    keys = store.provider_keys()
    if not keys and not as_json:
        hint(NO_PROVIDERS)
        return
    if provider_key is not None:
        if provider_key not in keys:
            raise unknown_provider(provider_key, keys)
        keys = [provider_key]
    views = model_views(store, keys)
    if not show_all:
        views = [view for view in views if view.usable]
    filtered = bool(
        min_context
        or capabilities
        or only_deprecated
        or max_input_price is not None
        or max_output_price is not None
    )
    views = select_views(
        views,
        min_context=min_context,
        capabilities=capabilities,
        max_input_price=max_input_price,
        max_output_price=max_output_price,
        deprecated=only_deprecated,
    )
    rows: list[dict[str, Any]] = []
    for view in views:
        row = view.as_json(_LISTED_FIELDS)
        if show_all:
            row["verdict"] = view.verdict
            row["verdict_reason"] = view.verdict_reason
        if only_deprecated:
            row["deprecation"] = view.deprecation
        rows.append(row)
    if not rows and keys:
        hint("No models match the filters." if filtered else "No models.")
    if as_json:
        print_json(rows)
        return
    if not rows:
        return
    with_status = show_all or any(view.status != "valid" for view in views)
    columns = ["provider", "model", "alias"] + (["status"] if with_status else [])
    columns += ["verdict"] if show_all else []
    columns += ["deprecation"] if only_deprecated else []
    first_value = len(columns)
    # A value column only when some model's value is known (no column of blanks).
    table_fields = [(f, h) for f, h in _TABLE_FIELDS if any(row[f] is not None for row in rows)]
    columns += [heading for _field, heading in table_fields]
    cells = []
    for view, row in zip(views, rows, strict=True):
        line = [view.provider, view.model, view.alias or ""]
        if with_status:
            line.append(view.status)
        if show_all:
            line.append(view.verdict or "-")
        if only_deprecated:
            line.append(view.deprecation or "")
        line += [_with_source(view, field, row[field]) for field, _heading in table_fields]
        cells.append(line)
    # Aliases are typed from, never cut; the values go first when the terminal is narrow,
    # then (in --all) the aliases, whose verdicts matter more.
    optional = tuple(range(len(columns) - 1, first_value - 1, -1)) + ((2,) if show_all else ())
    click.echo(render_table(columns, cells, whole=(0, 1, 2), optional=optional))
    for view in views:
        # What the table cannot say: why a model is missing, or unverified though pinged valid.
        if view.status == "missing" or (view.status == "unverified" and view.verdict == "valid"):
            hint(f"{view.name} is {view.status}: {view.status_reason}")


# The metadata fields of every ``models list --json`` row (``models show`` gives them all).
_LISTED_FIELDS = frozenset(f.name for f in METADATA_FIELDS if f.in_list)
# The metadata fields ``models list`` shows in its table, with their headings.
_TABLE_FIELDS = (
    ("context_length", "context"),
    ("input_price", "input $/M"),
    ("output_price", "output $/M"),
    ("capabilities", "capabilities"),
)


def _with_source(view: ModelView, field: str, plain: Any) -> str:
    """A table cell: ``128,000 (models.dev 1.0.398)``, ``0.15 (user)``, ``tools, vision
    (listed)``; empty when no source knows the value."""
    if plain is None:
        return ""
    if isinstance(plain, list):
        text = ", ".join(map(str, plain))
    elif isinstance(plain, int):
        text = f"{plain:,}"  # as models show writes a count
    elif isinstance(plain, float):
        text = f"{plain:g}"
    else:
        text = str(plain)
    return f"{text} ({view.source(field)})"


# -- show ------------------------------------------------------------------------------------------


@models.command("show")
@click.argument("model_ref", type=MODEL, metavar="MODEL")
@json_option
@pass_state
def models_show(state: CliState, model_ref: str, as_json: bool) -> None:
    """Show one model: its status and why, last verdict and its metadata, each value with its
    source (your own value, the provider's list, the registries) and where sources disagree.

    MODEL is provider/model, provider/alias, an alias or a model id. Prices are in USD per
    million tokens, created is a UTC date. --json adds the raw item of the provider's model list.
    """

    store = state.store()
    ref = open_manager(state).locate(model_ref)
    key, model_id = ref.provider, ref.model
    view = _view_of(store, key, model_id)
    info = store.model_info(key, model_id)
    week = store.model_stats(since=time.time() - 7 * DAY_SECONDS, provider=key, model=model_id)
    data: dict[str, Any] = {
        "provider": key,
        "model": model_id,
        "alias": ref.alias,
        "status": view.status,
        "status_reason": view.status_reason,
        "verdict": view.verdict,
        "verdict_reason": view.verdict_reason,
        "hand_mark": view.hand_mark,
        "usable": view.usable,
        "why_not_usable": None if view.usable else view.status_reason,
        "last_latency_ms": week[0].as_json()["last_latency_ms"] if week else None,
        "availability_7d": week[0].as_json()["availability"] if week else None,
    }
    from provider_store.cli.metadata_text import metadata_json, metadata_lines

    # Each metadata value reconciled from its sources (the user, the list, the registries).
    data.update(metadata_json(view.metadata))
    data["raw"] = dict(info.raw) or None
    data["deprecation"] = view.deprecation
    if as_json:
        print_json(data)
        return
    shown = {**data, "availability_7d": percent(data["availability_7d"])}
    if view.status_reason:
        shown["status"] = f"{view.status}: {view.status_reason}"
    lines = [(name, "-" if shown[name] is None else str(shown[name])) for name in _SHOWN_FIRST]
    lines.extend(metadata_lines(view.metadata))
    if view.deprecation:
        lines.append(("deprecation", view.deprecation))
    width = max(len(name) for name, _text in lines)
    for name, text in lines:
        click.echo(f"{name:<{width}}  {visible(text)}")


def _view_of(store: ProviderStore, key: str, model_id: str) -> ModelView:
    """The one model view of model ``model_id`` of provider ``key`` (located before)."""
    from provider_store import model_views

    (view,) = model_views(store, [key], models=[model_id])
    return view


# What ``models show`` prints before the metadata fields.
_SHOWN_FIRST = (
    "provider",
    "model",
    "alias",
    "status",
    "verdict",
    "last_latency_ms",
    "availability_7d",
)


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

    When several providers match, the first wins and the others are listed. A model missing
    from its provider's last listing still resolves; a note (and --json's status) says so. A
    prefix that is not a provider (nope/4o) is ignored and the rest looked up across
    providers, with a note. With --strict both are errors. An unknown model exits 2 and
    suggests the nearest models ("did you mean openai/gpt-4o-2024-08-06 (4o)?").
    """

    manager = open_manager(state)
    ref = manager.resolve(model_string, strict=strict)
    view = _view_of(state.store(), ref.provider, ref.model)
    if as_json:
        config = manager[ref.provider]
        print_json(
            {
                "provider": ref.provider,
                "model": ref.model,
                "base_api_url": config.base_api_url,
                "candidates": list(ref.candidates),
                "status": view.status,
                "status_reason": view.status_reason,
            }
        )
        return
    click.echo(visible(str(ref)))
    if view.status != "valid":
        hint(f"{ref.provider}/{ref.model} is {view.status}: {view.status_reason}")
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
