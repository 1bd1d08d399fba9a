"""``provider-store db …``: schema migrations.

A downgrade that would drop stored data says what will be lost and asks first; without a
terminal on stdin it refuses unless ``--yes`` is given. Only ``db upgrade`` makes a catalog
where there is none.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from provider_store.cli.app import CliState, cli, pass_state, print_json, report
from provider_store.cli.confirm import confirm_loss
from provider_store.cli.params import RETENTION_DAYS
from provider_store.cli.text import visible
from provider_store.store import ProviderStore

if TYPE_CHECKING:
    from provider_store import DowngradePlan, SchemaStatus

# Revision arguments such as -1 must reach the command as arguments, not as unknown options.
_REVISION_ARGS = {"ignore_unknown_options": True}


@cli.group()
def db() -> None:
    """Create and migrate the catalog's database schema."""


@db.command("upgrade", context_settings=_REVISION_ARGS)
@click.argument("revision", default="head")
@click.option(
    "--force",
    is_flag=True,
    help="Add a catalog to a database that already holds other tables (not a catalog).",
)
@pass_state
def db_upgrade(state: CliState, revision: str, force: bool) -> None:
    """Upgrade the schema to REVISION (default: head; also a revision id or +N).

    A database that holds other tables and no catalog is refused unless --force is given.
    """
    store = state.store(auto_migrate=False, create=True)
    _report_revision(state, store.upgrade_schema(revision, force=force))


def _report_revision(state: CliState, status: SchemaStatus) -> None:
    """What ``db upgrade|downgrade`` did: the revision before and now, and the head."""
    report(
        state.as_json,
        {
            "url": status.url,
            "previous": status.previous,
            "current": status.current,
            "head": status.head,
        },
        f"{status.url} is at revision {status.current or 'base (empty)'}",
    )


@db.command("downgrade", context_settings=_REVISION_ARGS)
@click.argument("revision")
@click.option("--yes", "-y", is_flag=True, help="Do not ask before dropping stored data.")
@pass_state
def db_downgrade(state: CliState, revision: str, yes: bool) -> None:
    """Downgrade the schema to REVISION (a revision id, -1 for one step back, or base).

    A downgrade drops what the removed revisions added (down to base: every table); when the
    catalog holds providers it says what will be lost and asks first. Without a terminal on
    stdin it refuses unless --yes is given.
    """
    store = state.store(auto_migrate=False)
    plan = store.plan_downgrade(revision)
    if plan.providers or plan.models:
        _confirm_loss(plan, yes)
    _report_revision(state, store.downgrade_schema(plan))


def _confirm_loss(plan: DowngradePlan, yes: bool) -> None:
    target, providers, models = plan.target, plan.providers, plan.models
    keeps = (
        ""
        if target is None
        else f" The {providers} providers and {models} models stay, without what those hold."
    )
    lost = (
        f"; the catalog holds {providers} providers and {models} models, and they will be lost."
        if target is None
        else "."
    )
    message = (
        f"Downgrading from {plan.current} to {target or 'base'} drops {plan.drops}{lost}{keeps}"
    )
    confirm_loss(
        message,
        "Downgrade anyway?",
        yes=yes,
        keep_copy="export the catalog first to keep a copy",
    )


@db.command("current")
@pass_state
def db_current(state: CliState) -> None:
    """Show the schema revision of the database and whether it is at head."""
    status = state.store(auto_migrate=False).schema_status()
    rev, head = status.current, status.head
    if state.as_json:
        print_json({"url": status.url, "current": rev, "head": head, "at_head": status.at_head})
        return
    state_text = "(head)" if status.at_head else f"(head is {head})"
    click.echo(visible(f"{status.url}: {rev or 'base (empty)'} {state_text}"))


@db.command("history")
@pass_state
def db_history(state: CliState) -> None:
    """List the migration revisions, newest first."""
    rows = ProviderStore.schema_history()
    if state.as_json:
        print_json([{"revision": r, "down_revision": d, "message": m} for r, d, m in rows])
        return
    for revision, down, message in rows:
        click.echo(f"{down or '<base>'} -> {revision}: {message}")


@db.command("prune")
@click.option(
    "--keep",
    type=RETENTION_DAYS,
    help="First set the retention period: whole days as 30d, 2w or seconds (kept for later"
    " writes' pruning).",
)
@pass_state
def db_prune(state: CliState, keep: int | None) -> None:
    """Delete change events and ping observations older than the retention period, now.

    The period is 90 days unless set otherwise (--keep, db retention); the ping statistics
    of the deleted observations go with them. History is pruned by whole UTC days: what
    happened on a UTC day goes once that day ended at least the period ago. Writes also
    prune, at most once an hour and a bounded batch.
    """
    store = state.store()
    if keep is not None:
        store.set_retention_days(keep)
    pruned = store.prune_history()
    days = store.retention_days()
    report(
        state.as_json,
        {
            "events": pruned.events,
            "observations": pruned.observations,
            "rollup_rows": pruned.rollup_rows,
            "retention_days": days,
        },
        f"Pruned {pruned.events} event(s) and {pruned.observations} observation(s)"
        f" older than {days} days.",
    )


@db.command("retention")
@click.argument("period", metavar="[SPAN]", type=RETENTION_DAYS, required=False)
@pass_state
def db_retention(state: CliState, period: int | None) -> None:
    """Show or set how long change events and ping observations are kept.

    SPAN is a whole number of days: 30d, 2w (or seconds: 86400; default 90d). Writes prune
    what is older, at most once an hour, and so does db prune.
    """
    store = state.store()
    if period is not None:
        store.set_retention_days(period)
    kept = store.retention_days()
    text = f"History is kept {kept} days."
    if period is None:
        if state.as_json:
            print_json({"retention_days": kept})
        else:
            click.echo(text)
        return
    report(state.as_json, {"retention_days": kept}, text)
