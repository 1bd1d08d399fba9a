"""The ``provider-store`` command line: parse, call the library, format.

Lives here: one module per command group (named after its command), terminal tables and safe
text, and the one handler that turns every ProviderStoreError into one line on stderr and exit
code 2 (bad input) or 1 (the operation failed). This package is the only place that prints or
exits. Command modules are imported when their command runs (``LAZY_COMMANDS`` in
:mod:`provider_store.cli.app`).
May import: every other wing; nothing imports it.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import click

from provider_store.cli.app import cli
from provider_store.cli.exits import interrupted
from provider_store.cli.text import visible
from provider_store.errors import (
    AmbiguousModelError,
    ConfigurationError,
    InvalidDocumentError,
    NotFoundError,
    ProviderStoreError,
    UnknownModelError,
)
from provider_store.rules import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK

_BAD_INPUT_ERRORS = (
    ConfigurationError,
    InvalidDocumentError,
    NotFoundError,
    AmbiguousModelError,
    UnknownModelError,
)


def exit_code_for(exc: ProviderStoreError) -> int:
    """2 when the user's input was at fault, 1 when the operation itself failed."""
    return EXIT_BAD_INPUT if isinstance(exc, _BAD_INPUT_ERRORS) else EXIT_FAILED


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the ``provider-store`` console script."""
    try:
        result = cli.main(
            args=list(argv) if argv is not None else None,
            prog_name="provider-store",
            standalone_mode=False,
        )
    except click.exceptions.Abort as exc:
        # click turns Ctrl-C at a prompt into Abort (``from None``: the interrupt is its context)
        if isinstance(exc.__cause__ or exc.__context__, KeyboardInterrupt):
            interrupted()
        click.echo("Aborted.", err=True)
        sys.exit(EXIT_FAILED)
    except click.UsageError as exc:
        click.echo(usage_line(exc), err=True)
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except ProviderStoreError as exc:
        click.echo(f"Error: {visible(exc)}", err=True)
        sys.exit(exit_code_for(exc))
    except KeyboardInterrupt:
        interrupted()
    sys.exit(result if isinstance(result, int) else EXIT_OK)


def usage_line(exc: click.UsageError) -> str:
    """A usage error as one line: what is wrong, and where the command's help is."""
    message = visible(" ".join(exc.format_message().split()))
    command = exc.ctx.command_path if exc.ctx is not None else "provider-store"
    return f"Error: {message} (see: {command} --help)"


__all__ = ["cli", "main"]
