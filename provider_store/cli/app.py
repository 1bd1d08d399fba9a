"""The root command group, shared options and output helpers for every CLI module.

Start-up is kept cheap: the command modules, rich, the store and the discovery machinery are
imported only when a command needs them, so ``provider-store --help`` answers at once.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import click

from provider_store.cli.text import visible
from provider_store.rules import DEFAULT_CACHE_TTL, EXIT_OK

if TYPE_CHECKING:
    from rich.console import Console

    from provider_store.resolution.manager import ProviderManager
    from provider_store.store import ProviderStore


@dataclass
class CliState:
    """What every command gets: the --db URL and a lazily opened store."""

    db_url: str | None
    verbose: int = 0
    _stores: dict[bool, ProviderStore] = field(default_factory=dict)

    def store(self, *, auto_migrate: bool = True) -> ProviderStore:
        """The catalog named by --db / $PROVIDER_STORE_URL (migrated to head by default)."""
        if auto_migrate not in self._stores:
            from provider_store.store import ProviderStore

            self._stores[auto_migrate] = ProviderStore(self.db_url, auto_migrate=auto_migrate)
        return self._stores[auto_migrate]


pass_state = click.make_pass_decorator(CliState)


def open_manager(state: CliState) -> ProviderManager:
    """A ProviderManager over the command's catalog."""
    from provider_store.resolution.manager import ProviderManager

    return ProviderManager(store=state.store())


# -- consoles -----------------------------------------------------------------------------------

# Piped output is not cut to 80 columns (unless $COLUMNS says so): tables keep their full cell
# text for grep and logs.
_PIPED_WIDTH = 240


def _console_width(stream: Any) -> int | None:
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    return None if stream.isatty() else _PIPED_WIDTH


class LazyConsole:
    """A rich Console made on first use, printing text literally (no markup, no emoji codes).

    Catalog text (model ids, provider names, providers' error messages) is never read as markup,
    so ``bad[/x]`` prints as ``bad[/x]``. The console is rebuilt for every command, so it follows
    the stream and $COLUMNS of the moment.
    """

    def __init__(self, *, stderr: bool) -> None:
        self._stderr = stderr
        self._console: Console | None = None

    @property
    def console(self) -> Console:
        """The underlying rich Console."""
        if self._console is None:
            from rich.console import Console

            stream = sys.stderr if self._stderr else sys.stdout
            self._console = Console(
                stderr=self._stderr,
                markup=False,
                emoji=False,
                highlight=False,
                soft_wrap=True,
                width=_console_width(stream),
            )
        return self._console

    def reset(self) -> None:
        """Forget the console; the next use makes a new one."""
        self._console = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.console, name)


stdout = LazyConsole(stderr=False)
stderr = LazyConsole(stderr=True)

json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")


def print_json(data: Any) -> None:
    """Write ``data`` as indented JSON to standard output."""
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


# -- logging ------------------------------------------------------------------------------------


class CliLogHandler(logging.Handler):
    """Library log records as one visible line each on stderr, above any progress bar.

    While :attr:`held` is a list, records are kept there instead (a command that reports the
    same failures in its own output decides which of them still need a line).
    """

    def __init__(self) -> None:
        super().__init__()
        self.held: list[logging.LogRecord] | None = None

    def emit(self, record: logging.LogRecord) -> None:
        """Print (or hold) one record."""
        if self.held is not None:
            self.held.append(record)
            return
        self.show(record)

    def show(self, record: logging.LogRecord) -> None:
        """Print one record as one line."""
        try:
            line = visible(self.format(record))
        except Exception:  # noqa: BLE001 - a broken log call must not break the command
            self.handleError(record)
            return
        stderr.print(line, markup=False, soft_wrap=True)


log_handler = CliLogHandler()


def _setup_logging(verbose: int) -> None:
    log_handler.setLevel(logging.WARNING - 10 * min(verbose, 2))
    fmt = "%(levelname)s %(name)s: %(message)s" if verbose else "warning: %(message)s"
    log_handler.setFormatter(logging.Formatter(fmt))
    log_handler.held = None
    package = logging.getLogger("provider_store")
    if log_handler not in package.handlers:
        package.addHandler(log_handler)
    # Without -v the level is inherited (warnings pass by default); -v lowers it.
    package.setLevel(log_handler.level if verbose else logging.NOTSET)


# -- the root group -----------------------------------------------------------------------------

SET_TTL_HELP = (
    f"Keep provider KEY's discovered model list fresh for SECONDS (default {DEFAULT_CACHE_TTL};"
    " 0: always ask)."
)

# Top-level commands: where each lives and its one-line help (shown by --help without importing
# the command modules; tests check it matches each command's own help).
LAZY_COMMANDS: dict[str, tuple[str, str, str]] = {
    "changes": (
        "provider_store.cli.changes",
        "changes",
        "Show what changed in the catalog, newest first.",
    ),
    "db": ("provider_store.cli.db", "db", "Create and migrate the catalog's database schema."),
    "discover": (
        "provider_store.cli.discover",
        "discover",
        "Discover (and validate) the models of every provider, or only PROVIDER.",
    ),
    "export": (
        "provider_store.cli.transfer",
        "export_command",
        "Write the catalog as a legacy providers YAML FILE ('-' for standard output).",
    ),
    "find": (
        "provider_store.cli.models",
        "find",
        "Find NAME in every provider (exact id, alias, then substring, ignoring case).",
    ),
    "import": (
        "provider_store.cli.transfer",
        "import_command",
        "Import a legacy providers YAML FILE (merge by default: other providers stay).",
    ),
    "keys": (
        "provider_store.cli.keys",
        "keys",
        "Store, forget and list the providers' API keys (never shown whole).",
    ),
    "models": (
        "provider_store.cli.models",
        "models",
        "List, show and curate the models of the catalog (aliases, hand marks, metadata).",
    ),
    "providers": (
        "provider_store.cli.providers",
        "providers",
        "List, add, change, rename and remove the providers of the catalog.",
    ),
    "refresh": (
        "provider_store.cli.refresh",
        "refresh",
        "Keep model lists fresh: refresh each provider (or PROVIDER...) as it falls due.",
    ),
    "registries": (
        "provider_store.cli.registries",
        "registries",
        "Fill model metadata from models.dev and LiteLLM's cost map (registries update).",
    ),
    "resolve": (
        "provider_store.cli.models",
        "resolve",
        "Resolve MODEL (provider/model, provider/alias, an alias or a model id) to a valid model.",
    ),
    "set-ttl": (
        "provider_store.cli.settings",
        "set_ttl",
        SET_TTL_HELP,
    ),
}


class FullHelpGroup(click.Group):
    """A group whose --help shows each command's whole first sentence, wrapped, never cut."""

    def short_help_of(self, ctx: click.Context, name: str) -> str | None:
        """The one-line help of subcommand ``name`` (None when it is hidden or unknown)."""
        command = self.get_command(ctx, name)
        if command is None or command.hidden:
            return None
        return command.get_short_help_str(limit=1_000)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """List the subcommands with their full one-line help."""
        rows = []
        for name in self.list_commands(ctx):
            text = self.short_help_of(ctx, name)
            if text is not None:
                rows.append((name, text))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


class LazyGroup(FullHelpGroup):
    """The root group: a command module is imported only when that command runs."""

    group_class = FullHelpGroup

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Every command name, loaded or not, sorted."""
        return sorted(set(self.commands) | set(LAZY_COMMANDS))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """The command ``cmd_name``, importing its module on first use."""
        if cmd_name not in self.commands and cmd_name in LAZY_COMMANDS:
            module, attribute, _ = LAZY_COMMANDS[cmd_name]
            command = getattr(importlib.import_module(module), attribute)
            self.commands.setdefault(cmd_name, command)
        return self.commands.get(cmd_name)

    def short_help_of(self, ctx: click.Context, name: str) -> str | None:
        """The one-line help, from LAZY_COMMANDS while the command is not loaded."""
        if name not in self.commands and name in LAZY_COMMANDS:
            return LAZY_COMMANDS[name][2]
        return super().short_help_of(ctx, name)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        """As click's, but a typo is matched against every command, loaded or not
        (``provider list`` -> did you mean 'providers'?)."""
        try:
            return super().resolve_command(ctx, args)
        except click.exceptions.NoSuchCommand as exc:
            raise click.exceptions.NoSuchCommand(
                exc.command_name, possibilities=self.list_commands(ctx), ctx=ctx
            ) from None

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        """Parse the root options; ``--db URL`` is accepted after the subcommand too
        (``provider-store providers list --db x.db``): it is moved before the subcommand."""
        return super().parse_args(ctx, hoist_db_option(args))

    def load_all(self) -> None:
        """Import every command module (for tests and documentation)."""
        ctx = click.Context(self)
        for name in LAZY_COMMANDS:
            self.get_command(ctx, name)


def hoist_db_option(args: list[str]) -> list[str]:
    """``args`` with every ``--db URL`` / ``--db=URL`` (up to a ``--``) moved to the front, where
    the root group reads it. No subcommand has a ``--db`` option of its own."""
    hoisted: list[str] = []
    rest: list[str] = []
    index = 0
    while index < len(args):
        token = args[index]
        if token == "--":
            rest.extend(args[index:])
            break
        if token == "--db" and index + 1 < len(args):
            hoisted += args[index : index + 2]
            index += 2
            continue
        if token.startswith("--db="):
            hoisted.append(token)
        else:
            rest.append(token)
        index += 1
    return hoisted + rest


@click.group(
    cls=LazyGroup,
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)
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
    stdout.reset()
    stderr.reset()
    _setup_logging(verbose)
    if ctx.invoked_subcommand is None:
        click.echo(ctx.get_help())
        ctx.exit(EXIT_OK)
    ctx.obj = CliState(db_url, verbose)
