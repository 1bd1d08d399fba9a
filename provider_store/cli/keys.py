"""``provider-store keys set|unset|list``: the providers' API keys.

A key is read from a hidden prompt, or from standard input when it is not a terminal; it is never
taken from the command line (shell history, process lists) and never printed whole.
"""

from __future__ import annotations

import os
import sys
from typing import Any, BinaryIO

import click

from provider_store.cli.app import CliState, cli, note, pass_state, print_json, report
from provider_store.cli.hints import NO_PROVIDERS, key_source_text
from provider_store.cli.model_param import PROVIDER
from provider_store.cli.table_layout import render_table
from provider_store.errors import ConfigurationError, InvalidDocumentError
from provider_store.rules import MAX_API_KEY_LENGTH, env_var_for, is_keyless
from provider_store.rules.api_keys import key_source

# Keys shorter than this are shown as "…" alone: a tail of 4 would give away too much of them.
_SHORTEST_SHOWN = 12


def mask(key: str) -> str:
    """``sk-proj-…abcd`` at most: the prefix up to the first '-' (when short) and the last 4."""
    key = key.strip()
    if len(key) < _SHORTEST_SHOWN:
        return "…"
    head = key.split("-", 1)[0]
    prefix = f"{head}-" if "-" in key and len(head) <= 4 else ""
    return f"{prefix}…{key[-4:]}"


def read_key_line(stream: BinaryIO, key: str) -> str:
    """The first line of ``stream`` as UTF-8 text, read no further than a key can be long
    (:data:`~provider_store.rules.MAX_API_KEY_LENGTH` characters): a longer line, or bytes that
    are not UTF-8, are refused (InvalidDocumentError naming ``<stdin>``) before more is read."""
    limit = MAX_API_KEY_LENGTH * 4 + 2  # UTF-8 bytes of the longest key, its line break
    data = stream.readline(limit + 1)
    where = f"providers.{key}.api_key"
    if len(data) > limit:
        raise InvalidDocumentError(
            f"the API key on standard input is longer than {MAX_API_KEY_LENGTH} characters",
            path="<stdin>",
            field=where,
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidDocumentError(
            "the API key on standard input is not UTF-8 text", path="<stdin>", field=where
        ) from None


@cli.group()
def keys() -> None:
    """Store, forget and list the providers' API keys (never shown whole)."""


@keys.command("set")
@click.argument("key", type=PROVIDER)
@pass_state
def keys_set(state: CliState, key: str) -> None:
    """Store provider KEY's API key, read from a hidden prompt (or standard input when it is
    not a terminal: ``pass show openai | provider-store keys set openai``).

    The key is stored in the catalog (a SQLite file is kept at mode 0600); it is never read
    from the command line and never echoed.
    """
    store = state.store()
    config = store.get_config(key)
    if is_keyless(config.options):
        raise ConfigurationError(
            f"provider {key} is keyless (--no-key); run `providers set {key} --key-required` first"
        )
    if sys.stdin.isatty():
        secret = click.prompt(f"API key for {key}", hide_input=True, err=True)
    else:
        secret = read_key_line(sys.stdin.buffer, key)
    if not secret.strip():
        raise ConfigurationError(f"provider {key}: no API key given (an empty line)")
    store.set_api_key(key, secret)
    report(
        state.as_json,
        {"provider": key, "source": "stored", "variable": None, "key": mask(secret)},
        f"{key}: API key stored ({mask(secret)}).",
    )


@keys.command("unset")
@click.argument("key", type=PROVIDER)
@pass_state
def keys_unset(state: CliState, key: str) -> None:
    """Forget provider KEY's stored API key; ${KEY}_API_KEY then supplies it."""
    store = state.store()
    store.set_api_key(key, None)
    row = next(row for row in key_rows(state) if row["provider"] == key)
    report(
        state.as_json,
        row,
        f"{key}: stored API key forgotten; set ${env_var_for(key)} to supply one.",
    )


def key_rows(state: CliState) -> list[dict[str, Any]]:
    """For every provider: where its key comes from (keyless, stored, env, missing), the
    variable that does or would supply it, and the key masked."""
    rows = []
    for key, config in state.store().load_configs().items():
        source, variable = key_source(key, config.api_key, config.options)
        shown = None
        if source == "stored":
            shown = mask(config.api_key)
        elif source == "env" and variable is not None:
            shown = mask(os.environ[variable])
        rows.append({"provider": key, "source": source, "variable": variable, "key": shown})
    return rows


@keys.command("list")
@pass_state
def keys_list(state: CliState) -> None:
    """List where each provider's key comes from: keyless (none needed), stored, env $VAR, or
    missing (with the variable to set, or run keys set); keys are masked (sk-…abcd)."""
    rows = key_rows(state)
    if state.as_json:
        print_json(rows)
        return
    if not rows:
        note(NO_PROVIDERS)
        return
    cells = [
        [row["provider"], key_source_text(row["source"], row["variable"]), row["key"] or "-"]
        for row in rows
    ]
    click.echo(render_table(["provider", "api key", "key"], cells))
