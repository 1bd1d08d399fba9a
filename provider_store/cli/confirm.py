"""Asking before a command deletes stored data: one rule for ``import --replace`` and
``db downgrade``.

The command says what will be lost, then asks on the terminal. ``--yes`` skips the question
(the message is still printed); without a terminal on stdin, and without ``--yes``, the
command refuses (bad input, exit 2) instead of deleting anything.
"""

from __future__ import annotations

import sys

import click

from provider_store.cli.app import stderr
from provider_store.errors import ConfigurationError


def confirm_loss(
    message: str, question: str, *, yes: bool, keep_copy: str, can_ask: bool = True
) -> None:
    """Print ``message`` and ask ``question``; ConfigurationError without a terminal or --yes.

    ``keep_copy`` says how to keep a copy of what would be lost (e.g. "export the catalog
    first"); ``can_ask`` is False when standard input carries data, not answers. A "no" on the
    terminal aborts the command (exit 1, nothing changed).
    """
    if yes:
        stderr.print(message, markup=False)
        return
    if not can_ask or not sys.stdin.isatty():
        raise ConfigurationError(
            f"{message} Refusing without a terminal to confirm; re-run with --yes to proceed"
            f" ({keep_copy})."
        )
    stderr.print(message, markup=False)
    click.confirm(question, default=False, abort=True, err=True)
