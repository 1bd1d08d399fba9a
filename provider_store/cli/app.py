"""The root command group, the global options, and the output helpers of every CLI module.

**Global options.** ``--db URL``, ``-v``, ``-q`` and ``--json`` are accepted by every command and
group, before or after the subcommand (``provider-store -q providers list --json --db x.db``):
every command is a :class:`GlobalOptionsCommand` (every group a :class:`GlobalOptionsGroup`),
which parses them where they stand and merges them into the one :class:`CliState`.

**Output.** Standard output carries what was asked for: a table, a feed, JSON, a write's one-line
report (:func:`report`). Hints and empty results go to stderr (:func:`note`); ``-q`` drops both
the hints and the text reports, never an error or the JSON.

Start-up is kept cheap: the command modules, rich, the store and the discovery machinery are
imported only when a command needs them, so ``provider-store --help`` answers at once.

Why this module is long: it is the one module every command module imports from (the state,
the output helpers, logging, the global options and the root group, which all meet in
:func:`apply_globals`); split, each command would import from four places that change together.
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
from provider_store.rules import EXIT_OK

if TYPE_CHECKING:
    from rich.console import Console

    from provider_store import ProviderManager
    from provider_store.store import ProviderStore


@dataclass
class CliState:
    """What every command gets: the global options and a lazily opened store."""

    db_url: str | None = None
    verbose: int = 0
    quiet: bool = False
    as_json: bool = False
    _stores: dict[bool, ProviderStore] = field(default_factory=dict)

    def store(self, *, auto_migrate: bool = True, create: bool = False) -> ProviderStore:
        """The catalog named by --db / $PROVIDER_STORE_URL (migrated to head by default).

        Only the commands that make a catalog (``providers add``, ``import``, ``db upgrade``)
        pass ``create``: for every other command a SQLite file that does not exist is bad input
        (exit 2, saying how to create one), never a new empty catalog. The default catalog
        (no --db, no $PROVIDER_STORE_URL) is made on first use by any command.
        """
        if auto_migrate not in self._stores:
            from provider_store.rules.limits import ENV_URL
            from provider_store.store import ProviderStore

            default = self.db_url is None and not os.environ.get(ENV_URL, "").strip()
            self._stores[auto_migrate] = ProviderStore(
                self.db_url, auto_migrate=auto_migrate, create=create or default
            )
        return self._stores[auto_migrate]

    def drop_stores(self) -> None:
        """Close the stores opened so far (the --db URL changed)."""
        for opened in self._stores.values():
            opened.close()
        self._stores.clear()


pass_state = click.make_pass_decorator(CliState)


def open_manager(state: CliState) -> ProviderManager:
    """A ProviderManager over the command's catalog."""
    from provider_store import ProviderManager

    return ProviderManager(store=state.store())


# -- consoles -----------------------------------------------------------------------------------


def _console_width(stream: Any) -> int | None:
    """The width policy of :func:`~provider_store.cli.table_layout.output_width`; piped output
    (no width) is printed without wrapping (``soft_wrap``)."""
    from provider_store.cli.table_layout import output_width

    return output_width(stream)


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

JSON_HELP = "Print JSON for scripts (a write prints what it did)."
json_option = click.option("--json", "as_json", is_flag=True, help=JSON_HELP)


@dataclass
class OutputMode:
    """How much the running command says: ``quiet`` (-q) drops hints and text reports."""

    quiet: bool = False


output = OutputMode()


def print_json(data: Any) -> None:
    """Write ``data`` as indented JSON to standard output."""
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


def note(text: str) -> None:
    """A hint or an empty result (``No changes.``), one line on stderr; ``-q`` drops it.

    ``text`` is printed as given: pass catalog text through
    :func:`~provider_store.cli.text.visible` first.
    """
    if not output.quiet:
        click.echo(text, err=True)


def report(as_json: bool, data: Any, text: str) -> None:
    """What a write did: ``data`` as JSON with ``--json`` (always printed), else ``text`` on
    stdout, each of its lines escaped by :func:`~provider_store.cli.text.visible` (``-q`` drops
    it)."""
    if as_json:
        print_json(data)
    elif not output.quiet:
        click.echo("\n".join(visible(line) for line in text.split("\n")))


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


def _setup_logging(verbose: int, quiet: bool = False) -> None:
    output.quiet = quiet
    level = logging.ERROR if quiet else logging.WARNING - 10 * min(verbose, 2)
    log_handler.setLevel(level)
    fmt = "%(levelname)s %(name)s: %(message)s" if verbose else "warning: %(message)s"
    log_handler.setFormatter(logging.Formatter(fmt))
    log_handler.held = None
    package = logging.getLogger("provider_store")
    if log_handler not in package.handlers:
        package.addHandler(log_handler)
    # Without -v or -q the level is inherited (warnings pass by default); -v lowers it, -q
    # raises it.
    package.setLevel(log_handler.level if verbose or quiet else logging.NOTSET)


# -- global options -----------------------------------------------------------------------------

DB_HELP = (
    "Database URL or SQLite file (default: $PROVIDER_STORE_URL, else one in the user data dir)."
)
VERBOSE_HELP = "Log more (-v info, -vv debug) to stderr."
QUIET_HELP = "Print only errors and what was asked for (no hints, warnings or write reports)."
# The parameter names of the global options, as a command's callback would receive them.
GLOBAL_NAMES = ("db_url", "verbose", "quiet", "as_json")


def global_params() -> list[click.Parameter]:
    """New ``--db``, ``-v``, ``-q`` and ``--json`` options (every command gets its own)."""
    return [
        click.Option(["--db", "db_url"], metavar="URL", default=None, help=DB_HELP),
        click.Option(["-v", "--verbose"], count=True, help=VERBOSE_HELP),
        click.Option(["-q", "--quiet"], is_flag=True, help=QUIET_HELP),
        click.Option(["--json", "as_json"], is_flag=True, help=JSON_HELP),
    ]


class GlobalOptions(click.Command):
    """What every command and group of the CLI is: it also takes the global options, wherever
    they stand after it.

    The values found are merged into the :class:`CliState` before the callback runs; the
    callback receives ``as_json`` only when it declares it (``json_option``), merged with a
    ``--json`` given before the subcommand.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.global_options = global_params()

    def get_params(self, ctx: click.Context) -> list[click.Parameter]:
        """The command's own parameters, the global options it does not declare, --help."""
        params = super().get_params(ctx)
        own = {param.name for param in params}
        extra = [p for p in self.global_options if p.name not in own]
        return params[:-1] + extra + params[-1:] if params else extra

    def invoke(self, ctx: click.Context) -> Any:
        """Merge the global options into the state, then run the command."""
        apply_globals(ctx, self)
        return super().invoke(ctx)

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command's options, then the global ones in a section of their own."""
        format_options_split(self, ctx, formatter)


class GlobalOptionsCommand(GlobalOptions):
    """A command of the CLI (see :class:`GlobalOptions`)."""


class GlobalOptionsGroup(GlobalOptions, click.Group):
    """A group of the CLI (see :class:`GlobalOptions`) whose --help shows each command's whole
    first sentence, wrapped, never cut."""

    command_class = GlobalOptionsCommand

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The group's options, the global ones, then its commands."""
        format_options_split(self, ctx, formatter)
        self.format_commands(ctx, formatter)

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


GlobalOptionsGroup.group_class = GlobalOptionsGroup


def apply_globals(ctx: click.Context, command: click.Command) -> None:
    """Move the global options ``ctx`` parsed into the :class:`CliState` (made by the root
    group, which read the ones before the subcommand), then set up logging again."""
    own = {param.name for param in command.params}
    found = {name: ctx.params.pop(name) for name in GLOBAL_NAMES if name in ctx.params}
    state = ctx.ensure_object(CliState)
    if found.get("db_url") is not None:
        state.db_url = found["db_url"]
        state.drop_stores()
    state.verbose += found.get("verbose") or 0
    state.quiet = state.quiet or bool(found.get("quiet"))
    state.as_json = state.as_json or bool(found.get("as_json"))
    if state.verbose and state.quiet:
        raise click.UsageError("-v and -q contradict each other: give one of them", ctx=ctx)
    _setup_logging(state.verbose, state.quiet)
    if "as_json" in own:
        ctx.params["as_json"] = state.as_json
    for name in ("db_url", "verbose", "quiet"):
        if name in own:  # the root group declares these itself
            ctx.params[name] = found.get(name)


def format_options_split(
    command: click.Command, ctx: click.Context, formatter: click.HelpFormatter
) -> None:
    """Write ``command``'s options, then the global options under "Global options"."""
    mine: list[tuple[str, str]] = []
    common: dict[str, tuple[str, str]] = {}
    for param in command.get_params(ctx):
        record = param.get_help_record(ctx)
        if record is None or isinstance(param, click.Argument):
            continue
        if param.name in GLOBAL_NAMES:
            common[param.name] = record
        else:
            mine.append(record)
    if mine:
        with formatter.section("Options"):
            formatter.write_dl(mine)
    if common:
        with formatter.section("Global options (also before the command)"):
            formatter.write_dl([common[name] for name in GLOBAL_NAMES if name in common])


# -- the root group -----------------------------------------------------------------------------

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
        "Write the catalog to FILE ('-' for standard output): legacy YAML, or a LiteLLM config.",
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
        "List, show, add, change, rename and remove the providers of the catalog.",
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
    "serve": (
        "provider_store.cli.serve",
        "serve",
        "Serve the catalog read-only over HTTP (/v1/models, resolve, changes, metrics).",
    ),
    "set-ttl": (
        "provider_store.cli.settings",
        "set_ttl",
        "The same as providers set KEY --ttl SPAN (kept for scripts; hidden).",
    ),
}
# Commands kept for scripts but not listed by --help.
HIDDEN_COMMANDS = frozenset({"set-ttl"})


class LazyGroup(GlobalOptionsGroup):
    """The root group: a command module is imported only when that command runs."""

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
        if name in HIDDEN_COMMANDS:
            return None
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
                exc.command_name,
                possibilities=[n for n in self.list_commands(ctx) if n not in HIDDEN_COMMANDS],
                ctx=ctx,
            ) from None

    def load_all(self) -> None:
        """Import every command module (for tests and documentation)."""
        ctx = click.Context(self)
        for name in LAZY_COMMANDS:
            self.get_command(ctx, name)


@click.group(
    cls=LazyGroup,
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.version_option(package_name="provider-store", prog_name="provider-store")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """A durable catalog of OpenAI-compatible LLM providers and their models.

    The global options (--db, -v, -q, --json) may stand before the command or anywhere after it.
    """
    stdout.reset()
    stderr.reset()
    if ctx.invoked_subcommand is None:
        click.echo(ctx.get_help())
        ctx.exit(EXIT_OK)
