"""``provider-store db …``: schema migrations."""

from __future__ import annotations

import click

from provider_store.catalog import migrate
from provider_store.catalog.db import redact_url
from provider_store.cli.app import CliState, cli, json_option, pass_state, print_json, stdout


@cli.group()
def db() -> None:
    """Create and migrate the catalog's database schema."""


@db.command("upgrade")
@click.argument("revision", default="head")
@pass_state
def db_upgrade(state: CliState, revision: str) -> None:
    """Upgrade the schema to REVISION (default: head)."""
    store = state.store(auto_migrate=False)
    migrate.upgrade(store.engine, revision)
    rev = migrate.current_revision(store.engine)
    stdout.print(f"{redact_url(store.url)} is at revision {rev}")


@db.command("downgrade")
@click.argument("revision")
@pass_state
def db_downgrade(state: CliState, revision: str) -> None:
    """Downgrade the schema to REVISION (a revision id, -1, or base)."""
    store = state.store(auto_migrate=False)
    migrate.downgrade(store.engine, revision)
    rev = migrate.current_revision(store.engine)
    stdout.print(f"{redact_url(store.url)} is at revision {rev or 'base (empty)'}")


@db.command("current")
@json_option
@pass_state
def db_current(state: CliState, as_json: bool) -> None:
    """Show the schema revision of the database and whether it is at head."""
    store = state.store(auto_migrate=False)
    rev = migrate.current_revision(store.engine)
    head = migrate.head_revision()
    if as_json:
        print_json(
            {"url": redact_url(store.url), "current": rev, "head": head, "at_head": rev == head}
        )
        return
    state_text = "(head)" if rev == head else f"(head is {head})"
    stdout.print(f"{redact_url(store.url)}: {rev or 'base (empty)'} {state_text}")


@db.command("history")
@json_option
def db_history(as_json: bool) -> None:
    """List the migration revisions, newest first."""
    rows = migrate.history()
    if as_json:
        print_json([{"revision": r, "down_revision": d, "message": m} for r, d, m in rows])
        return
    for revision, down, message in rows:
        stdout.print(f"{down or '<base>'} -> {revision}: {message}")
