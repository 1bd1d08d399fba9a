"""The ``provider-store`` command line: parse, call the library, format.

This package is the only place that prints or exits. Every ProviderStoreError becomes one line on
stderr and exit code 2 (bad input) or 1 (the operation failed).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import click

from provider_store.cli import db as _db  # noqa: F401  (registers the commands)
from provider_store.cli import discover as _discover  # noqa: F401  (registers the commands)
from provider_store.cli import models as _models  # noqa: F401  (registers the commands)
from provider_store.cli import providers as _providers  # noqa: F401  (registers the commands)
from provider_store.cli import settings as _settings  # noqa: F401  (registers the commands)
from provider_store.cli import transfer as _transfer  # noqa: F401  (registers the commands)
from provider_store.cli.app import cli, stderr
from provider_store.errors import (
    AmbiguousModelError,
    ConfigurationError,
    InvalidDocumentError,
    NotFoundError,
    ProviderStoreError,
    UnknownModelError,
)

BAD_INPUT = 2
FAILED = 1
_BAD_INPUT_ERRORS = (
    ConfigurationError,
    InvalidDocumentError,
    NotFoundError,
    AmbiguousModelError,
    UnknownModelError,
)


def exit_code_for(exc: ProviderStoreError) -> int:
    """2 when the user's input was at fault, 1 when the operation itself failed."""
    return BAD_INPUT if isinstance(exc, _BAD_INPUT_ERRORS) else FAILED


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the ``provider-store`` console script."""
    try:
        result = cli.main(
            args=list(argv) if argv is not None else None,
            prog_name="provider-store",
            standalone_mode=False,
        )
    except click.exceptions.Abort:
        stderr.print("Aborted.")
        sys.exit(FAILED)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except ProviderStoreError as exc:
        stderr.print(f"Error: {exc}", markup=False)
        sys.exit(exit_code_for(exc))
    except KeyboardInterrupt:
        stderr.print("Interrupted.")
        sys.exit(130)
    sys.exit(result if isinstance(result, int) else 0)


__all__ = ["cli", "main"]
