"""``provider-store discover [PROVIDER]``: refresh the catalog, with progress bars and a summary."""

from __future__ import annotations

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn
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
from provider_store.discovery.report import DiscoveryReport, ProgressEvent
from provider_store.suggestions import unknown_provider

FAILED = 1


class _Bars:
    """One rich progress bar per provider, fed by the orchestration's progress events."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.tasks: dict[str, TaskID] = {}

    def __call__(self, event: ProgressEvent) -> None:
        task = self.tasks.get(event.provider)
        if task is None:
            task = self.progress.add_task(event.provider, total=None, status="starting")
            self.tasks[event.provider] = task
        if event.phase == "discovering":
            self.progress.update(task, status="listing models")
        elif event.phase == "validating":
            self.progress.update(
                task, total=event.total, completed=event.completed, status="validating"
            )
        elif event.summary is not None:
            total = self.progress.tasks[task].total or 1
            self.progress.update(task, total=total, completed=total, status=event.summary.status)


@cli.command()
@click.argument("provider", required=False)
@click.option("--force-refresh", is_flag=True, help="Ignore fresh caches and stored verdicts.")
@click.option("--no-validate", is_flag=True, help="Only list models; do not ping them.")
@click.option(
    "--concurrency",
    type=click.IntRange(min=1),
    default=None,
    help="At most N requests in flight over all providers (default 32).",
)
@click.option(
    "--per-provider",
    type=click.IntRange(min=1),
    default=None,
    help="At most N pings in flight per provider (default 4).",
)
@click.option(
    "--deadline",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help=(
        "Give up on unfinished work after this many seconds of wall-clock time, even against a "
        "provider that answers one byte at a time (default 300)."
    ),
)
@json_option
@pass_state
@click.pass_context
def discover(
    ctx: click.Context,
    state: CliState,
    provider: str | None,
    force_refresh: bool,
    no_validate: bool,
    concurrency: int | None,
    per_provider: int | None,
    deadline: float | None,
    as_json: bool,
) -> None:
    """Discover (and validate) the models of every provider, or only PROVIDER.

    Providers without an API key (none stored, $<KEY>_API_KEY unset) are skipped, naming the
    variable to set. A ping that reveals a provider problem (a rejected key, no credit or
    quota) stops that provider's other pings; the problem is shown and recorded on the provider
    until a later run gets through. Verdicts are saved per provider as its pings finish; the
    curated lists only when every targeted provider could be discovered. Exit code 1 when one
    could not, when a result could not be saved, or when every provider was skipped.
    """
    manager = open_manager(state)
    if provider is not None and not any(k.lower() == provider.lower() for k in manager):
        raise unknown_provider(provider, manager.keys())
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[status]}"),
        console=stderr,
        transient=as_json,
        disable=not stderr.is_terminal,
    )
    with progress:
        report = manager.discover(
            force_refresh=force_refresh,
            provider=provider,
            validate=not no_validate,
            concurrency=concurrency,
            per_provider=per_provider,
            deadline=deadline,
            progress=_Bars(progress),
        )
    manager.close()
    if as_json:
        print_json(report.as_dict())
    else:
        _print_report(report)
    if not report.ok:
        ctx.exit(FAILED)


def _print_report(report: DiscoveryReport) -> None:
    table = Table(
        "provider", "status", "discovered", "valid", "invalid", "inconclusive", "source", "error"
    )
    for s in report.providers:
        table.add_row(
            s.provider,
            s.status,
            str(s.discovered),
            str(s.valid),
            str(s.invalid),
            str(s.inconclusive),
            s.source or "-",
            s.error or "",
        )
    stdout.print(table)
    # The table may cut long messages at narrow widths; what to do about a provider is one line.
    for s in report.providers:
        if s.error:
            stdout.print(
                f"{s.provider} {s.status}: {s.error}",
                markup=False,
                highlight=False,
                soft_wrap=True,
            )
        if s.problem:
            stdout.print(
                f"{s.provider}: provider problem, other pings not sent: {s.problem}",
                markup=False,
                highlight=False,
                soft_wrap=True,
            )
    if report.error:
        stdout.print(report.error, markup=False, highlight=False, soft_wrap=True)
    saved = "saved" if report.persisted else "not saved"
    stdout.print(f"{len(report.providers)} provider(s) in {report.seconds:.1f}s; results {saved}.")
