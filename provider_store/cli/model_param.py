"""Click parameter types of model and provider arguments, with shell completion.

:data:`MODEL` is any model the catalog holds (what ``models show|mark|alias|set|stats`` take,
looked up by ``ProviderManager.locate``), :data:`USABLE_MODEL` a valid one (what ``resolve`` and
``find`` take); both accept ``P/ALIAS``, ``ALIAS``, ``P/ID`` and ``ID`` and complete provider
keys (as ``key/``), aliases and model ids through ``ProviderManager.complete``. The command
resolves the text itself (the value stays a string), so every command reports a miss in the
same words. :data:`PROVIDER` completes provider keys.

Completion runs on every Tab, so it opens the catalog named by ``--db`` / ``$PROVIDER_STORE_URL``
without migrating it and never creates one (a SQLite file that does not exist offers nothing);
whatever goes wrong offers nothing rather than a traceback.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import click
from click.shell_completion import CompletionItem

if TYPE_CHECKING:
    from provider_store.store import ProviderStore

__all__ = ["MODEL", "MODEL_HELP", "PROVIDER", "USABLE_MODEL", "ModelType", "ProviderKeyType"]

logger = logging.getLogger(__name__)

# How many completions a shell is offered at most.
SHELL_LIMIT = 1_000
# What every command's help says about a MODEL argument.
MODEL_HELP = "MODEL is provider/model, provider/alias, an alias or a model id."


def completion_store(ctx: click.Context) -> ProviderStore | None:
    """The catalog the command line names, opened as it is (no migration); None when it
    does not exist or cannot be opened."""
    from provider_store.errors import ProviderStoreError
    from provider_store.store import ProviderStore

    url = None
    level: click.Context | None = ctx
    while level is not None and not isinstance(url, str):  # --db is global: any level has it
        url = level.params.get("db_url")
        level = level.parent
    try:  # a SQLite file that does not exist is neither made nor opened
        return ProviderStore(
            url if isinstance(url, str) else None, auto_migrate=False, create=False
        )
    except ProviderStoreError:
        return None


class ModelType(click.types.StringParamType):
    """A model argument that completes in a shell; its value is the text as typed (the
    command resolves it, so a miss is worded as everywhere else)."""

    name = "model"

    def __init__(self, *, every: bool) -> None:
        self.every = every

    def shell_complete(
        self, ctx: click.Context, param: click.Parameter, incomplete: str
    ) -> list[CompletionItem]:
        """Provider keys, aliases and model ids starting with ``incomplete``."""
        try:
            return self._complete(ctx, incomplete)
        except Exception:  # noqa: BLE001 - a Tab never shows a traceback
            logger.debug("no completion for %r", incomplete, exc_info=True)
            return []

    def _complete(self, ctx: click.Context, incomplete: str) -> list[CompletionItem]:
        from provider_store import ProviderManager

        store = completion_store(ctx)
        if store is None:
            return []
        with store, ProviderManager(store=store) as manager:
            found = [
                c
                for c in manager.complete(incomplete, limit=SHELL_LIMIT, every=self.every)
                if c.text.lower().startswith(incomplete.lower())
            ]
            if len(found) == 1 and found[0].kind == "provider":
                # One provider: offer its models too, so the shell stops after "key/".
                found += manager.complete(found[0].text, limit=SHELL_LIMIT, every=self.every)
        return [CompletionItem(c.text, help=c.meta) for c in found]


class ProviderKeyType(click.types.StringParamType):
    """A provider key argument that completes in a shell; its value is the key as typed (the
    library says when no provider has it)."""

    name = "provider"

    def shell_complete(
        self, ctx: click.Context, param: click.Parameter, incomplete: str
    ) -> list[CompletionItem]:
        """The provider keys starting with ``incomplete`` (ignoring case), in catalog order."""
        try:
            store = completion_store(ctx)
            if store is None:
                return []
            with store:
                keys = store.provider_keys()
        except Exception:  # noqa: BLE001 - a Tab never shows a traceback
            logger.debug("no completion for %r", incomplete, exc_info=True)
            return []
        return [CompletionItem(k) for k in keys if k.lower().startswith(incomplete.lower())]


MODEL = ModelType(every=True)
USABLE_MODEL = ModelType(every=False)
PROVIDER = ProviderKeyType()
