"""``provider-store import`` and ``provider-store export``: legacy YAML in and out, and the
LiteLLM proxy config out."""

from __future__ import annotations

import errno
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import click

from provider_store import ImportReport, ProviderChange
from provider_store.cli.app import CliState, cli, note, output, pass_state, print_json, report
from provider_store.cli.confirm import confirm_loss
from provider_store.cli.params import count
from provider_store.cli.text import visible
from provider_store.errors import InvalidDocumentError, StoreError, os_cause
from provider_store.rules import DEFAULT_MAX_MODELS
from provider_store.rules.limits import MAX_FILE_BYTES

if TYPE_CHECKING:
    from provider_store import LitellmConfig
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
@click.option("--redact-keys", is_flag=True, help='legacy: write "" for every API key.')
@click.option(
    "--with-metadata",
    is_flag=True,
    help="legacy: also write model_metadata: what each provider lists about its models.",
)
@click.option(
    "--format",
    "file_format",
    type=click.Choice(["legacy", "litellm"]),
    default="legacy",
    show_default=True,
    help="legacy: the providers YAML that import reads back (with the stored keys). litellm: a"
    " LiteLLM proxy config (model_list, aliases, master key) for `litellm --config FILE`.",
)
@click.option(
    "--include-keys",
    is_flag=True,
    help="litellm: write the keys the catalog holds into FILE (mode 0600) instead of naming"
    " their environment variables.",
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
    include_keys: bool,
) -> None:
    """Write the catalog to FILE ('-' for standard output): legacy YAML, or a LiteLLM config.

    The file is replaced atomically; it gets mode 0600 when it contains API keys. --json reports
    what was written (not with FILE '-', where standard output carries the export).

    --format legacy (the default) writes the legacy providers YAML that import reads back: the
    stored keys (not those from environment variables such as OPEN_ROUTER_API_KEY), the legacy
    layout plus kind/options where a provider is not the default, and with --with-metadata what
    each provider lists about its models.

    --format litellm writes a LiteLLM proxy config that `litellm --config FILE` starts with: one
    model_list entry per valid model (named provider/model, its aliases routed to it) with its
    metadata, the master key read from $LITELLM_MASTER_KEY, each provider's key from its
    environment variable (keyless providers get a placeholder). It says on standard error each
    variable the proxy reads and whether it is set now. --include-keys writes the stored keys
    into FILE instead (never to standard output).
    """
    if file == "-" and state.as_json:
        raise click.UsageError(
            "--json reports an export to a FILE; with '-' standard output carries the export",
            ctx=ctx,
        )
    _check_format_options(ctx, file, file_format, redact_keys, with_metadata, include_keys)
    store = state.store()
    if file_format == "litellm":
        _export_litellm(state, store, file, include_keys=include_keys)
        return
    if file == "-":
        _write_stdout(store.export_yaml_bytes(redact_keys=redact_keys, with_metadata=with_metadata))
        return
    size = store.export_yaml(file, redact_keys=redact_keys, with_metadata=with_metadata)
    report(
        state.as_json,
        {
            "file": file,
            "format": file_format,
            "providers": len(store.provider_keys()),
            "bytes": size,
            "redacted_keys": redact_keys,
            "with_metadata": with_metadata,
        },
        visible(f"Exported {len(store.provider_keys())} providers to {file} ({size:,} bytes)."),
    )


def _check_format_options(
    ctx: click.Context,
    file: str,
    file_format: str,
    redact_keys: bool,
    with_metadata: bool,
    include_keys: bool,
) -> None:
    """Refuse the options the chosen format does not take."""
    if file_format == "litellm" and (redact_keys or with_metadata):
        raise click.UsageError("--redact-keys and --with-metadata are for --format legacy", ctx=ctx)
    if file_format == "legacy" and include_keys:
        raise click.UsageError(
            "--include-keys is for --format litellm (the legacy export holds the keys already)",
            ctx=ctx,
        )
    if include_keys and file == "-":
        raise click.UsageError("--include-keys writes keys into a FILE only, never to '-'", ctx=ctx)


def _write_stdout(data: bytes) -> None:
    """Write an export to standard output; a failed write is a StoreError."""
    try:
        _write_all(sys.stdout.buffer, data)
    except OSError as exc:
        _discard_stdout()  # the interpreter's own flush at exit must not fail again
        raise StoreError(f"Cannot write the export to standard output: {os_cause(exc)}") from exc


def _export_litellm(
    state: CliState, store: ProviderStore, file: str, *, include_keys: bool
) -> None:
    """Write the LiteLLM proxy config of the catalog to ``file`` ('-': standard output), then
    say on standard error what the proxy needs from the environment."""
    from provider_store import litellm_config

    if file == "-":
        config = litellm_config(store)
        _write_stdout(config.to_bytes())
    else:
        config = litellm_config(store, file, include_keys=include_keys)
        size = Path(file).stat().st_size
        models = len(config.document["model_list"])
        mode = ", mode 0600: it holds API keys" if config.holds_keys else ""
        report(
            state.as_json,
            {
                "file": file,
                "format": "litellm",
                "models": models,
                "bytes": size,
                "holds_keys": config.holds_keys,
                "variables": [
                    {
                        "name": v.name,
                        "set": v.is_set,
                        "provider": v.provider,
                        "stored_in_catalog": v.stored,
                    }
                    for v in config.variables
                ],
                "keyless": config.keyless,
            },
            visible(
                f"Exported a LiteLLM proxy config of {models} models to {file}"
                f" ({size:,} bytes{mode})."
            ),
        )
    for line in litellm_notes(config):
        note(visible(line))


def litellm_notes(config: LitellmConfig) -> list[str]:
    """One line per environment variable the proxy reads (set now or not), and one naming the
    keyless providers."""
    from provider_store.rules.api_keys import KEYLESS_API_KEY

    lines = []
    for variable in config.variables:
        state = "is set" if variable.is_set else "is not set"
        head = f"${variable.name} {state}: "
        if variable.provider is None:
            lines.append(
                head + "the proxy's master key, which its clients send as their API key (the"
                " proxy refuses to start without one: set it to a secret of your own)."
            )
        elif variable.stored:
            lines.append(
                head + f"the key of provider {variable.provider}; the catalog holds one: set"
                " the variable to it, or export with --include-keys to write it into the file."
            )
        else:
            lines.append(head + f"the key of provider {variable.provider}.")
    if config.keyless:
        lines.append(
            f"Keyless providers, sent the placeholder key {KEYLESS_API_KEY!r}:"
            f" {', '.join(config.keyless)}."
        )
    return lines
