"""The root command group, shared options and output helpers for every CLI module."""

from __future__ import annotations

import json
import logging
import sys
from dataclasses import dataclass, field
from typing import Any

import click
from rich.console import Console

from provider_store.resolution.manager import ProviderManager
from provider_store.store import ProviderStore


@dataclass
class CliState:
    """What every command gets: the --db URL and a lazily opened store."""

    db_url: str | None
    _stores: dict[bool, ProviderStore] = field(default_factory=dict)

    def store(self, *, auto_migrate: bool = True) -> ProviderStore:
        """The catalog named by --db / $PROVIDER_STORE_URL (migrated to head by default)."""
        if auto_migrate not in self._stores:
            self._stores[auto_migrate] = ProviderStore(self.db_url, auto_migrate=auto_migrate)
        return self._stores[auto_migrate]


pass_state = click.make_pass_decorator(CliState)


def open_manager(state: CliState) -> ProviderManager:
    """A ProviderManager over the command's catalog."""
    return ProviderManager(store=state.store())


# Piped output is not cut to 80 columns: tables keep their full cell text for grep and logs.
_PIPED_WIDTH = 240
stdout = Console(
    highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else _PIPED_WIDTH
)
stderr = Console(
    stderr=True,
    highlight=False,
    soft_wrap=True,
    width=None if sys.stderr.isatty() else _PIPED_WIDTH,
)

json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")


def print_json(data: Any) -> None:
    """Write ``data`` as indented JSON to standard output."""
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--db",
    "db_url",
    metavar="URL",
    default=None,
    help="Database URL (default: $PROVIDER_STORE_URL, else a SQLite file in the user data dir).",
)
@click.option("-v", "--verbose", count=True, help="Log more (-v info, -vv debug) to stderr.")
@click.version_option(package_name="provider-store", prog_name="provider-store")
@click.pass_context
def cli(ctx: click.Context, db_url: str | None, verbose: int) -> None:
    """A durable catalog of OpenAI-compatible LLM providers and their models."""
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(
        level=level, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s"
    )
    ctx.obj = CliState(db_url)
