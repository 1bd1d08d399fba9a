"""``provider-store import`` and ``provider-store export``: the legacy YAML file format."""

from __future__ import annotations

import errno
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import click

from provider_store.catalog.db import os_cause
from provider_store.cli.app import CliState, cli, output, pass_state, print_json, report
from provider_store.cli.confirm import confirm_loss
from provider_store.cli.params import count
from provider_store.cli.text import visible
from provider_store.errors import InvalidDocumentError, StoreError
from provider_store.legacy.import_report import ImportReport, ProviderChange
from provider_store.legacy.safe_yaml import MAX_FILE_BYTES
from provider_store.rules import DEFAULT_MAX_MODELS

if TYPE_CHECKING:
    from provider_store.store import ProviderStore

# Above this many model ids of one kind, a provider's line shows a count instead of the ids.
MAX_LISTED_MODELS = 20


@cli.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--replace", is_flag=True, help="Make the catalog equal to FILE (providers not in it go)."
)
@click.option("--dry-run", is_flag=True, help="Show what would change and write nothing.")
@click.option("--yes", "-y", is_flag=True, help="Do not ask before --replace deletes providers.")
@click.option(
    "--max-models",
    type=count(),
    default=DEFAULT_MAX_MODELS,
    show_default=True,
    help="Refuse a file in which one provider lists more models than this.",
)
@pass_state
def import_command(
    state: CliState,
    file: Path,
    replace: bool,
    dry_run: bool,
    yes: bool,
    max_models: int,
) -> None:
    """Import a legacy providers YAML FILE (merge by default: other providers stay).

    The whole file is imported in one transaction, or nothing is. Discovery caches and
    validation verdicts of providers already in the catalog are kept. FILE '-' reads
    standard input. When --replace would delete providers, it says which and asks first;
    without a terminal on stdin (or when FILE is '-') it refuses unless --yes is given.
    """
    data = _read_stdin() if str(file) == "-" else None
    source = Path("<stdin>") if data is not None else file
    store = state.store(create=True)
    if replace and not dry_run:
        plan = store.import_yaml(
            source, replace=True, dry_run=True, data=data, max_models=max_models
        )
        _confirm_removals(store, plan, yes, stdin_used=data is not None)
    report = store.import_yaml(
        source, replace=replace, dry_run=dry_run, data=data, max_models=max_models
    )
    if state.as_json:
        print_json(report.to_dict())
        return
    print_report(report)


def _read_stdin() -> bytes:
    """Standard input, capped as files are (InvalidDocumentError names ``<stdin>``)."""
    data = sys.stdin.buffer.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise InvalidDocumentError(
            f"input is larger than the {MAX_FILE_BYTES // (1024 * 1024)} MiB limit",
            path="<stdin>",
        )
    return data


def _confirm_removals(
    store: ProviderStore, plan: ImportReport, yes: bool, *, stdin_used: bool
) -> None:
    """Ask before ``import --replace`` deletes providers (their models and stored keys go too).

    ``stdin_used``: the document came on standard input, so there is no one to ask.
    """
    removed = plan.providers_removed
    if not removed:
        return
    configs = store.load_configs()
    with_keys = [key for key in removed if key in configs and configs[key].api_key]
    models = sum(
        len(configs[key].valid_models) + len(configs[key].invalid_models)
        for key in removed
        if key in configs
    )
    keys_note = f", {len(with_keys)} of them with a stored API key" if with_keys else ""
    message = visible(
        f"Replacing the catalog with {plan.path} deletes {len(removed)} provider(s) not in it"
        f"{keys_note}: {', '.join(removed)} ({models} curated models, their discovery caches"
        " and verdicts)."
    )
    confirm_loss(
        message,
        "Delete them?",
        yes=yes,
        keep_copy="export the catalog first to keep a copy, or import without --replace",
        can_ask=not stdin_used,
    )


def _write_all(stream: BinaryIO, data: bytes) -> None:
    """Write all of ``data`` and flush; a short write (a file size limit, a full disk) is
    retried so that it raises instead of silently cutting the export."""
    view = memoryview(data)
    while view:
        written = stream.write(view)
        if not written:
            raise OSError(errno.ENOSPC, "nothing could be written")
        view = view[written:]
    stream.flush()


def _discard_stdout() -> None:
    """Point standard output at /dev/null, dropping what is still buffered for it."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    finally:
        os.close(devnull)


def print_report(report: ImportReport) -> None:
    """Human-readable import report: one line per changed provider, then a summary."""
    if report.dry_run:
        _say(visible(f"Dry run of {report.path}: nothing was written."))
    for change in report.providers:
        for line in _change_lines(change):
            _say(visible(line))
    if report.top_level_keys_changed:
        keys = ", ".join(report.top_level_keys_changed)
        _say(f"~ top-level keys: {visible(keys)}")
    counts = report.counts()
    verb = "Would change" if report.dry_run else "Changed"
    if not report.changed:
        _say(visible(f"No changes: the catalog already matches {report.path}."))
        return
    _say(
        f"{verb}: providers +{counts['providers_added']} -{counts['providers_removed']}"
        f" ~{counts['providers_changed']}; models +{counts['models_added']}"
        f" -{counts['models_removed']} ~{counts['models_changed']}",
    )
    lost = report.discovered_models_removed
    if lost:
        # Said last and on its own, so it is never lost among the lines above.
        moved = sum(len(ids) for ids in lost.values())
        leave = "would leave" if report.dry_run else "left"
        _say(
            f"! {moved} model(s) that discovery found or validated {leave} the curated lists"
            f" of {visible(', '.join(lost))} (kept as unverified).",
        )


def _say(text: str) -> None:
    """One line of the import report on stdout; ``-q`` drops it (the JSON report stays)."""
    if not output.quiet:
        click.echo(text)


def _change_lines(change: ProviderChange) -> list[str]:
    sign = {"added": "+", "removed": "-", "changed": "~"}[change.action]
    head = f"{sign} provider {change.key}"
    if change.fields:
        head += f": {', '.join(change.fields)}"
    lines = [head]
    for mark, ids, what in (
        ("+", change.models_added, "added"),
        ("-", change.models_removed, "removed"),
        ("~", change.models_changed, "changed"),
    ):
        if len(ids) > MAX_LISTED_MODELS:
            lines.append(f"    {mark} {len(ids)} models {what}")
        else:
            lines.extend(f"    {mark} {model_id}" for model_id in ids)
    return lines


@cli.command("export")
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--redact-keys", is_flag=True, help='Write "" for every API key.')
@click.option(
    "--with-metadata",
    is_flag=True,
    help="Also write model_metadata: what each provider lists about its valid/invalid models.",
)
@click.option(
    "--format",
    "file_format",
    type=click.Choice(["legacy", "litellm"]),
    default="legacy",
    show_default=True,
    help="litellm: a LiteLLM proxy config (model_list), keys as os.environ/VARIABLE.",
)
@pass_state
@click.pass_context
def export_command(
    ctx: click.Context,
    state: CliState,
    file: str,
    redact_keys: bool,
    with_metadata: bool,
    file_format: str,
) -> None:
    """Write the catalog as a legacy providers YAML FILE ('-' for standard output).

    The file is replaced atomically; it gets mode 0600 when it contains API keys. Keys that
    come from environment variables (e.g. OPEN_ROUTER_API_KEY) are never written. Without
    --with-metadata the file has the legacy layout (plus kind/options where a provider is not
    the default). --format litellm writes a LiteLLM proxy config instead: one model_list entry
    per valid model, with its metadata; it never holds a key. --json reports what was written
    (not with FILE '-', where standard output carries the export).
    """
    if file == "-" and state.as_json:
        raise click.UsageError(
            "--json reports an export to a FILE; with '-' standard output carries the export",
            ctx=ctx,
        )
    store = state.store()
    if file_format == "litellm":
        size = _export_litellm(store, file)
        what = "a LiteLLM proxy config"
    elif file == "-":
        data = store.export_yaml_bytes(redact_keys=redact_keys, with_metadata=with_metadata)
        try:
            _write_all(sys.stdout.buffer, data)
        except OSError as exc:
            _discard_stdout()  # the interpreter's own flush at exit must not fail again
            raise StoreError(
                f"Cannot write the export to standard output: {os_cause(exc)}"
            ) from exc
        return
    else:
        size = store.export_yaml(file, redact_keys=redact_keys, with_metadata=with_metadata)
        what = f"{len(store.provider_keys())} providers"
    if file == "-":
        return
    report(
        state.as_json,
        {
            "file": file,
            "format": file_format,
            "providers": len(store.provider_keys()),
            "bytes": size,
            "redacted_keys": redact_keys or file_format == "litellm",
            "with_metadata": with_metadata,
        },
        visible(f"Exported {what} to {file} ({size:,} bytes)."),
    )


def _export_litellm(store: ProviderStore, file: str) -> int:
    """Write the LiteLLM proxy config of the catalog to ``file`` ('-': standard output);
    the number of bytes written."""
    from provider_store.legacy.exporter import write_atomic
    from provider_store.legacy.litellm_config import litellm_config_bytes

    data = litellm_config_bytes(store)
    if file == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return len(data)
    write_atomic(Path(file), data, private=False)
    return len(data)
