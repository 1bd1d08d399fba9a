"""Everyday curation verbs: ``providers add|set|remove|rename`` and
``models mark|unmark|set|unset`` (aliases: :mod:`provider_store.cli.aliases`).

Each is a thin layer over one ``ProviderStore`` method; a MODEL argument is looked up first by
``ProviderManager.locate`` (the four forms, one wording for a miss). Bad input is refused in one
line with exit code 2 (a ConfigurationError / NotFoundError / UnknownModelError from the
library).
"""

from __future__ import annotations

import json
from typing import Any

import click

from provider_store.cli.app import CliState, json_option, open_manager, pass_state, report
from provider_store.cli.confirm import confirm_loss
from provider_store.cli.model_param import MODEL, PROVIDER
from provider_store.cli.models import models
from provider_store.cli.params import CAPABILITY, PRICE, SPAN, TTL, count
from provider_store.cli.providers import providers, report_provider
from provider_store.errors import ConfigurationError
from provider_store.rules import DEFAULT_CACHE_TTL, MAX_NESTING_DEPTH, PROVIDER_KINDS

_OPTION_HELP = (
    "A connection option as NAME=VALUE (VALUE read as JSON when it parses, else text), e.g."
    ' auth_header=api-key or query=\'{"api-version": "2024-10-21"}\'; repeatable.'
)


def parse_options(pairs: tuple[str, ...]) -> dict[str, Any]:
    """``("a=1", "b=x")`` -> ``{"a": 1, "b": "x"}``; ConfigurationError names a malformed pair."""
    options: dict[str, Any] = {}
    for pair in pairs:
        name, sep, text = pair.partition("=")
        if not sep or not name.strip():
            raise ConfigurationError(f"--option expects NAME=VALUE, got {pair!r}")
        try:
            value: Any = json.loads(text)
        except ValueError:
            value = text
        except RecursionError:  # the JSON parser recurses: a deep nesting is refused here
            raise ConfigurationError(
                f"--option {name.strip()}: the value is nested more than"
                f" {MAX_NESTING_DEPTH} levels deep"
            ) from None
        options[name.strip()] = value
    return options


_TTL_HELP = (
    "How long the discovered model list stays fresh: 90s, 15m, 2h, 7d, 1w or seconds"
    f" (default {DEFAULT_CACHE_TTL}; 0: always ask)."
)


# -- providers -----------------------------------------------------------------------------------


@providers.command("add")
@click.argument("key")
@click.argument("url")
@click.option("--name", help="Display name (default: KEY).")
@click.option(
    "--kind",
    type=click.Choice(PROVIDER_KINDS),
    default="openai",
    show_default=True,
    help="The API dialect.",
)
@click.option("--option", "option_pairs", multiple=True, metavar="NAME=VALUE", help=_OPTION_HELP)
@click.option("--ttl", type=TTL, help=_TTL_HELP)
@click.option(
    "--no-key",
    "no_key",
    is_flag=True,
    help="A local server that takes no key (Ollama, llama.cpp, LM Studio, vLLM).",
)
@json_option
@pass_state
def providers_add(
    state: CliState,
    key: str,
    url: str,
    name: str | None,
    kind: str,
    option_pairs: tuple[str, ...],
    ttl: int | None,
    no_key: bool,
    as_json: bool,
) -> None:
    """Add provider KEY at base API URL (e.g. https://api.openai.com/v1).

    Its key comes from $KEY_API_KEY or `keys set KEY`; --no-key marks a server that takes
    none. Then run `discover KEY` to list and validate its models.
    """
    state.store(create=True).add_provider(
        key,
        url,
        name=name,
        kind=kind,
        options=parse_options(option_pairs),
        cache_ttl=ttl,
        keyless=no_key,
    )
    report_provider(
        state, key, f"Added provider {key} ({url}){' without a key' if no_key else ''}."
    )


@providers.command("set")
@click.argument("key", type=PROVIDER)
@click.option("--name", help="New display name.")
@click.option("--url", help="New base API URL.")
@click.option("--kind", type=click.Choice(PROVIDER_KINDS), help="New API dialect.")
@click.option("--option", "option_pairs", multiple=True, metavar="NAME=VALUE", help=_OPTION_HELP)
@click.option(
    "--unset-option",
    "unset",
    multiple=True,
    metavar="NAME",
    help="Remove a connection option; repeatable.",
)
@click.option("--ttl", type=TTL, help=_TTL_HELP)
@click.option(
    "--no-key/--key-required",
    "no_key",
    default=None,
    help="The server takes no key / needs one again.",
)
@click.option(
    "--removal-confirmations",
    type=count(),
    metavar="N",
    help="Remove a model missing from N complete listings in a row (default 2).",
)
@click.option(
    "--removal-min-age",
    type=SPAN,
    help="...and missing for at least SPAN: 0, 90s, 30m, 1h, 2d or seconds (default 1h).",
)
@json_option
@pass_state
def providers_set(
    state: CliState,
    key: str,
    name: str | None,
    url: str | None,
    kind: str | None,
    option_pairs: tuple[str, ...],
    unset: tuple[str, ...],
    ttl: int | None,
    no_key: bool | None,
    removal_confirmations: int | None,
    removal_min_age: float | None,
    as_json: bool,
) -> None:
    """Change provider KEY's settings; its models, verdicts, stored key and cache stay.

    A model missing from a complete listing is flagged missing; it is removed once it has been
    missing from --removal-confirmations complete listings in a row and for --removal-min-age.
    """
    removal = (removal_confirmations, removal_min_age)
    if not (
        name
        or url
        or kind
        or option_pairs
        or unset
        or ttl is not None
        or no_key is not None
        or removal != (None, None)
    ):
        raise ConfigurationError(
            "nothing to change: give --name, --url, --kind, --option, --unset-option, --ttl,"
            " --no-key, --key-required, --removal-confirmations or --removal-min-age"
        )
    state.store().update_provider(
        key,
        name=name,
        base_api_url=url,
        kind=kind,
        set_options=parse_options(option_pairs),
        unset_options=unset,
        cache_ttl=ttl,
        keyless=no_key,
        removal_confirmations=removal_confirmations,
        removal_min_age_seconds=removal_min_age,
    )
    report_provider(state, key, f"Updated provider {key}.")


@providers.command("remove")
@click.argument("keys", nargs=-1, required=True, type=PROVIDER)
@click.option("--yes", "-y", is_flag=True, help="Do not ask before removing.")
@json_option
@pass_state
def providers_remove(state: CliState, keys: tuple[str, ...], yes: bool, as_json: bool) -> None:
    """Remove providers KEYS with their models, verdicts and stored API keys.

    Says what goes and asks first; without a terminal on stdin it refuses unless --yes is given.
    """
    store = state.store()
    plan = store.removal_plan(keys)
    message = "Removing " + "; ".join(r.describe() for r in plan) + "."
    confirm_loss(message, "Remove?", yes=yes, keep_copy="export the catalog first to keep a copy")
    removed = store.remove_providers(keys)
    report(
        as_json,
        [
            {
                "provider": r.key,
                "models": r.models,
                "verdicts": r.verdicts,
                "stored_key": r.stored_key,
            }
            for r in removed
        ],
        "\n".join(f"Removed {removal.describe()}." for removal in removed),
    )


@providers.command("rename")
@click.argument("old", type=PROVIDER)
@click.argument("new")
@pass_state
def providers_rename(state: CliState, old: str, new: str) -> None:
    """Rename provider OLD to NEW, keeping its models, verdicts, metadata and cache.

    A key from the environment is then read from NEW's variable ($NEW_API_KEY).
    """
    state.store().rename_provider(old, new)
    report_provider(state, new, f"Renamed provider {old} to {new}.")


# -- models --------------------------------------------------------------------------------------


@models.command("mark")
@click.argument("model_ref", type=MODEL, metavar="MODEL")
@click.argument("verdict", type=click.Choice(["valid", "invalid"]))
@click.option("--reason", metavar="TEXT", help="Why (shown by models show).")
@pass_state
def models_mark(state: CliState, model_ref: str, verdict: str, reason: str | None) -> None:
    """Mark MODEL valid or invalid by hand; discovery keeps the mark (and pings the model no
    more) until `models unmark`.

    MODEL is provider/model, provider/alias, an alias or a model id.
    """
    ref = open_manager(state).locate(model_ref)
    state.store().mark_model(ref.provider, ref.model, verdict, reason=reason)
    report(
        state.as_json,
        {"provider": ref.provider, "model": ref.model, "hand_mark": verdict, "reason": reason},
        f"{ref} marked {verdict} by hand.",
    )


@models.command("unmark")
@click.argument("model_ref", type=MODEL, metavar="MODEL")
@pass_state
def models_unmark(state: CliState, model_ref: str) -> None:
    """Return MODEL to discovery's care: the next discovery run pings it again.

    MODEL is provider/model, provider/alias, an alias or a model id.
    """
    ref = open_manager(state).locate(model_ref)
    state.store().mark_model(ref.provider, ref.model, None)
    report(
        state.as_json,
        {"provider": ref.provider, "model": ref.model, "hand_mark": None, "reason": None},
        f"{ref}: hand mark removed.",
    )


# `models set` option -> metadata field.
_SET_FIELDS = {
    "context": "context_length",
    "max_output": "max_output_tokens",
    "input_price": "input_price",
    "output_price": "output_price",
}


@models.command("set")
@click.argument("model_ref", type=MODEL, metavar="MODEL")
@click.option("--context", type=count(), metavar="N", help="Context length (tokens).")
@click.option("--max-output", type=count(), metavar="N", help="Most output tokens.")
@click.option("--input-price", type=PRICE, metavar="X", help="USD per million input tokens.")
@click.option("--output-price", type=PRICE, metavar="X", help="USD per million output tokens.")
@click.option(
    "--capability",
    "capabilities",
    type=CAPABILITY,
    multiple=True,
    help="A capability (tools, vision, reasoning ...); repeatable; replaces the list.",
)
@json_option
@pass_state
def models_set(
    state: CliState,
    model_ref: str,
    context: int | None,
    max_output: int | None,
    input_price: float | None,
    output_price: float | None,
    capabilities: tuple[str, ...],
    as_json: bool,
) -> None:
    """Override metadata of MODEL; your values win over the provider's list and the
    registries and survive every refresh and re-import (`models unset` drops them).

    MODEL is provider/model, provider/alias, an alias or a model id.
    """
    numbers = {
        "context": context,
        "max_output": max_output,
        "input_price": input_price,
        "output_price": output_price,
    }
    values: dict[str, Any] = {_SET_FIELDS[n]: v for n, v in numbers.items() if v is not None}
    if capabilities:
        values["capabilities"] = list(dict.fromkeys(capabilities))
    if not values:
        raise ConfigurationError(
            "nothing to set: give --context, --max-output, --input-price, --output-price"
            " or --capability"
        )
    ref = open_manager(state).locate(model_ref)
    key, model_id = ref.provider, ref.model
    state.store().set_model_metadata(key, model_id, **values)
    report(
        as_json,
        {"provider": key, "model": model_id, "set": values},
        f"{key}/{model_id}: set {', '.join(sorted(values))}.",
    )


@models.command("unset")
@click.argument("model_ref", type=MODEL, metavar="MODEL")
@click.argument("fields", nargs=-1, required=True)
@pass_state
def models_unset(state: CliState, model_ref: str, fields: tuple[str, ...]) -> None:
    """Drop your overrides of FIELDS (context_length, input_price ...) of MODEL; the
    provider's list or a registry speaks for them again.

    MODEL is provider/model, provider/alias, an alias or a model id.
    """
    ref = open_manager(state).locate(model_ref)
    state.store().set_model_metadata(ref.provider, ref.model, **dict.fromkeys(fields))
    report(
        state.as_json,
        {"provider": ref.provider, "model": ref.model, "unset": list(fields)},
        f"{ref}: unset {', '.join(fields)}.",
    )
