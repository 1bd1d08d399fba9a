"""``provider-store discover [PROVIDER]``: refresh the catalog, with progress bars and a summary.

Output rules: a progress bar per provider on a terminal (stderr), then a summary table sized for
80 columns (provider keys are never cut), then ONE line per provider that failed or was skipped
and per provider problem. The library's own warnings about those providers are not repeated
(``-v`` shows them all); other warnings follow, one line each.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from typing import TYPE_CHECKING, Any

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn

from provider_store import ChangeEvent, DiscoveryReport, ProgressEvent, ProviderSummary
from provider_store.cli.app import (
    CliState,
    cli,
    json_option,
    log_handler,
    note,
    open_manager,
    output,
    pass_state,
    print_json,
    stderr,
    stdout,
)
from provider_store.cli.changes import change_summary
from provider_store.cli.hints import KEY_REFUSED, KEY_REJECTED_PROBLEM, NO_PROVIDERS, key_origin
from provider_store.cli.model_param import PROVIDER
from provider_store.cli.params import DEADLINE, count
from provider_store.cli.table_layout import render_table
from provider_store.cli.text import visible
from provider_store.errors import ProviderStoreError
from provider_store.rules import EXIT_FAILED
from provider_store.rules.limits import DEFAULT_DEADLINE, DEFAULT_REGISTRY_DEADLINE
from provider_store.suggestions import unknown_provider

logger = logging.getLogger(__name__)

if TYPE_CHECKING:
    from provider_store import ProviderManager
    from provider_store.store import ProviderStore


class _Bars:
    """One rich progress bar per provider, fed by the orchestration's progress events."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.tasks: dict[str, TaskID] = {}

    def __call__(self, event: ProgressEvent) -> None:
        task = self.tasks.get(event.provider)
        if task is None:
            task = self.progress.add_task(visible(event.provider), total=None, status="starting")
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
@click.argument("provider", required=False, type=PROVIDER)
@click.option("--force-refresh", is_flag=True, help="Ignore fresh caches and stored verdicts.")
@click.option("--no-validate", is_flag=True, help="Only list models; do not ping them.")
@click.option(
    "--concurrency",
    type=count(),
    metavar="N",
    default=None,
    help="At most N requests in flight over all providers (default 32).",
)
@click.option(
    "--per-provider",
    type=count(),
    metavar="N",
    default=None,
    help="At most N pings in flight per provider (default 4).",
)
@click.option(
    "--deadline",
    type=DEADLINE,
    default=None,
    help=(
        "Give up on unfinished work after this span of wall-clock time (90s, 5m or seconds),"
        " even against a provider that answers one byte at a time (default 5m; at most 1d)."
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
    if not manager and not as_json:
        note(NO_PROVIDERS)
        return
    progress = Progress(
        TextColumn("{task.description}", markup=False),
        BarColumn(bar_width=20),
        MofNCompleteColumn(),
        TextColumn("{task.fields[status]}", markup=False),
        console=stderr.console,
        transient=True,
        disable=output.quiet or not stderr.is_terminal,
    )
    held: list[logging.LogRecord] = []
    log_handler.held = None if state.verbose else held
    started = time.time()
    try:
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
    finally:
        log_handler.held = None
    if no_validate:
        report = _with_stored_verdicts(report, state.store())
    refused = _refused_keys(report, manager, state.store())
    manager.close()
    left = (deadline or DEFAULT_DEADLINE) - (time.time() - started)
    _fill_from_registries(state.store(), report, left)
    data = _report_dict(report, validated=not no_validate)
    changed = _changes_since(state.store(), started, provider)
    if as_json:
        data["changes"] = change_summary(changed)
        print_json(data)
    else:
        _print_report(report, validated=not no_validate, refused=refused)
        if any(summary.source is not None for summary in report.providers):
            click.echo(f"Changes: {change_summary(changed)}.")
    _show_other_warnings(held, report)
    if not report.ok:
        ctx.exit(EXIT_FAILED)


def _fill_from_registries(store: ProviderStore, report: DiscoveryReport, left: float) -> None:
    """Attribute registry metadata (models.dev, and the LiteLLM cost map named by
    $PROVIDER_STORE_LITELLM) to the models of the providers whose list is current, within
    what is ``left`` of the run's deadline (at most the registry deadline). Nothing is redone
    when neither the registries nor the listings changed. A registry that cannot be read is
    reported in one line; discovery's result stands."""
    import os

    from provider_store import Source
    from provider_store.cli.registries import LITELLM_ENV

    listed = [s.provider for s in report.providers if s.source in (Source.FRESH, Source.CACHE)]
    if not listed:
        return
    if left <= 0:
        click.echo("warning: registry metadata not updated: the deadline has passed", err=True)
        return
    try:
        store.fill_from_registries(
            litellm=os.environ.get(LITELLM_ENV) or None,
            providers=listed,
            deadline=min(left, DEFAULT_REGISTRY_DEADLINE),
        )
    except ProviderStoreError as exc:
        click.echo(f"warning: registry metadata not updated: {visible(exc)}", err=True)


def _changes_since(store: ProviderStore, started: float, provider: str | None) -> list[ChangeEvent]:
    """The events this run (and any writer since it began) stored, for the summary line."""
    try:
        return store.changes(since=started, provider=provider, limit=None)
    except ProviderStoreError as exc:
        logger.warning("could not read the changes of this run: %s", exc)
        return []


def _with_stored_verdicts(report: DiscoveryReport, store: ProviderStore) -> DiscoveryReport:
    """The report with each provider's stored verdict counts (nothing was validated this run)."""
    summaries = []
    for summary in report.providers:
        counts = {"valid": 0, "invalid": 0, "inconclusive": 0}
        if summary.discovered:
            ids = [
                item["id"]
                for item in store.read_cache(summary.provider).models or []
                if isinstance(item.get("id"), str)
            ]
            for result in store.load_verdicts(summary.provider, models=ids).values():
                counts[result.verdict.value] = counts.get(result.verdict.value, 0) + 1
        summaries.append(
            dataclasses.replace(
                summary,
                valid=counts["valid"],
                invalid=counts["invalid"],
                inconclusive=counts["inconclusive"],
            )
        )
    return dataclasses.replace(report, providers=summaries)


def _failure_message(report: DiscoveryReport) -> str | None:
    """The run's error; a failed run always names its failed providers."""
    if report.error or report.ok:
        return report.error
    failed = [s.provider for s in report.providers if s.status == "failed"]
    saved = "results saved" if report.persisted else "results not saved"
    return f"discovery failed for {', '.join(failed) or 'the targeted providers'}; {saved}"


def _report_dict(report: DiscoveryReport, *, validated: bool) -> dict[str, Any]:
    data = report.as_dict()
    data["error"] = _failure_message(report)
    # With --no-validate the counts are the stored verdicts of the discovered models.
    data["validated"] = validated
    return data


def _show_other_warnings(held: list[logging.LogRecord], report: DiscoveryReport) -> None:
    """Held library warnings that the summary does not already say, one line each."""
    told = [s.provider for s in report.providers if s.error or s.problem]
    for record in held:
        message = record.getMessage()
        if "Not saving discovery results" in message:
            continue
        if any(key in message for key in told):
            continue
        log_handler.show(record)


def _refused_keys(
    report: DiscoveryReport, manager: ProviderManager, store: ProviderStore
) -> dict[str, str]:
    """provider -> where its key came from, for each provider that refused its key."""
    refused = {}
    for s in report.providers:
        if s.status == "skipped" or s.provider not in manager:
            continue
        rejected = (s.problem or "").startswith(KEY_REJECTED_PROBLEM)
        if rejected or (s.error and store.read_cache(s.provider).last_error_status in KEY_REFUSED):
            refused[s.provider] = key_origin(s.provider, manager[s.provider])
    return refused


def _skip_line(summary: ProviderSummary) -> str:
    """``KEY skipped: why``, from the library's "Skipping provider KEY: why" (said once)."""
    error = summary.error or ""
    prefix = f"Skipping provider {summary.provider}: "
    reason = error[len(prefix) :] if error.startswith(prefix) else error
    return f"{visible(summary.provider)} skipped: {visible(reason)}"


def _print_report(
    report: DiscoveryReport, *, validated: bool, refused: dict[str, str] | None = None
) -> None:
    refused = refused or {}
    if report.providers and all(s.status == "skipped" for s in report.providers):
        # Nothing ran: one line per provider says why, without a table of zeros.
        for s in report.providers:
            click.echo(_skip_line(s))
        return
    headers = ["provider", "status", "models", "valid", "invalid", "inconclusive", "source"]
    rows = [
        [
            s.provider,
            s.status,
            s.discovered,
            s.valid,
            s.invalid,
            s.inconclusive,
            s.source or "-",
        ]
        for s in report.providers
    ]
    click.echo(render_table(headers, rows, numeric=range(2, 6)))
    # The table holds no messages; what went wrong with a provider is one line below it.
    for s in report.providers:
        origin = f" ({refused[s.provider]})" if s.provider in refused else ""
        if s.error and s.status == "skipped":
            click.echo(_skip_line(s))
        elif s.error:
            click.echo(f"{visible(s.provider)} {s.status}: {visible(s.error)}{origin}")
        if s.problem:
            click.echo(
                f"{visible(s.provider)}: provider problem, other pings not sent: "
                f"{visible(s.problem)}{origin}"
            )
    if report.error:
        click.echo(visible(report.error))
    saved = "saved" if report.persisted else "not saved"
    note = "" if validated else "; not validated (stored verdicts shown)"
    stdout.print(
        f"{len(report.providers)} provider(s) in {report.seconds:.1f}s; results {saved}{note}.",
        markup=False,
    )
