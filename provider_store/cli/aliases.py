"""``provider-store models alias|unalias|aliases``: one alias names one model in the catalog.

Thin layers over ``ProviderStore.set_alias`` and ``ProviderStore.aliases``; a MODEL argument is
looked up first by ``ProviderManager.locate`` (the four forms, one wording for a miss).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from provider_store.cli.app import (
    CliState,
    json_option,
    note,
    open_manager,
    pass_state,
    print_json,
    report,
)
from provider_store.cli.model_param import MODEL
from provider_store.cli.models import models
from provider_store.cli.table_layout import render_table

if TYPE_CHECKING:
    from provider_store import AliasEntry


@models.command("alias")
@click.argument("model_ref", type=MODEL, metavar="MODEL")
@click.argument("alias")
@click.option("--move", is_flag=True, help="Take ALIAS from the model that holds it now.")
@pass_state
def models_alias(state: CliState, model_ref: str, alias: str, move: bool) -> None:
    """Give the valid MODEL the short name ALIAS (for resolve, find and every MODEL argument).

    MODEL is provider/model, provider/alias, an alias or a model id. One alias names one model
    in the whole catalog: an alias another model holds is refused, naming it, unless --move
    takes it from there; so is another valid model's id.
    """
    ref = open_manager(state).locate(model_ref)
    moved = state.store().set_alias(ref.provider, ref.model, alias, move=move)
    taken = f" (taken from {', '.join(moved)})" if moved else ""
    report(
        state.as_json,
        {"provider": ref.provider, "model": ref.model, "alias": alias.strip(), "moved_from": moved},
        f"{ref} is now also {alias.strip()}{taken}.",
    )


@models.command("unalias")
@click.argument("model_ref", type=MODEL, metavar="MODEL")
@pass_state
def models_unalias(state: CliState, model_ref: str) -> None:
    """Drop the alias of MODEL (it is then named by its id alone).

    MODEL is provider/model, provider/alias, an alias or a model id.
    """
    ref = open_manager(state).locate(model_ref)
    state.store().set_alias(ref.provider, ref.model, None)
    report(
        state.as_json,
        {"provider": ref.provider, "model": ref.model, "alias": None, "moved_from": []},
        f"{ref} has no alias now.",
    )


@models.command("aliases")
@json_option
@pass_state
def models_aliases(state: CliState, as_json: bool) -> None:
    """List every alias and the model it names; flag an alias that names more than one.

    A legacy file may bring in an alias that two models hold, or one that is another model's
    id: resolve then picks the first provider. Fix it with `models alias --move` or
    `models unalias`.
    """
    entries = state.store().aliases()
    if as_json:
        print_json(
            [
                {
                    "alias": e.alias,
                    "provider": e.provider,
                    "model": e.model,
                    "also_alias_of": list(e.also_alias_of),
                    "also_id_of": list(e.also_id_of),
                }
                for e in entries
            ]
        )
        return
    if not entries:
        note("No aliases set (give one with: models alias MODEL ALIAS).")
        return
    rows = [[e.alias, f"{e.provider}/{e.model}", _collision(e)] for e in entries]
    click.echo(render_table(["alias", "model", "collision"], rows, whole=(0, 1)))
    colliding = sum(1 for e in entries if e.collides)
    if colliding:
        note(
            f"{colliding} alias{'es' if colliding != 1 else ''} name more than one model:"
            " resolve picks the first provider (fix: models alias --move, models unalias)."
        )


def _collision(entry: AliasEntry) -> str:
    """``also alias of p/m; also the id of q/n``, or ``-``."""
    notes = []
    if entry.also_alias_of:
        notes.append(f"also alias of {', '.join(entry.also_alias_of)}")
    if entry.also_id_of:
        notes.append(f"also the id of {', '.join(entry.also_id_of)}")
    return "; ".join(notes) or "-"
