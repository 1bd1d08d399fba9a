"""The exceptions provider_store raises.

Every error the library raises on purpose derives from one root, so callers can catch them all::

    ProviderStoreError
     +-- InvalidDocumentError     a legacy YAML document (or other user input) is malformed
     |    +-- OptionsError            (also a DiscoveryError) a provider's kind or options
     |    +-- InvalidQueryError       a query parameter of `provider-store serve` (``param``)
     +-- NotFoundError            a provider or model key that the store does not hold (a KeyError)
     |    +-- ProviderKeyError        ProviderManager.get_provider_config's legacy KeyError
     +-- AmbiguousModelError      a bare model name matches models of several providers
     +-- UnknownModelError        a model string names no model (also a ValueError: legacy)
     +-- ConfigurationError       a setting (such as the database URL) is unusable
     |    +-- ForeignDatabaseError    the database holds other tables, not a catalog
     |    +-- AliasTakenError         an alias another model holds (``holders`` names it)
     +-- RegistryError            a model registry (models.dev, LiteLLM cost map) is unreadable
     |    +-- InvalidRegistryError    (also an InvalidDocumentError) not a usable registry file
     +-- StoreError               the database could not be opened, migrated or written
     |    +-- NewerCatalogError       the catalog was migrated by a newer provider-store
     |    +-- CacheWriteError         (also a DiscoveryError) discovery could not save results
     |    +-- CatalogUnavailableError (also a DiscoveryError) discovery could not read the catalog
     +-- DiscoveryError           talking to a provider's OpenAI-compatible API failed
          +-- ProviderConnectionError   connection refused, DNS, TLS, timeout
          +-- ProviderHTTPError         the provider answered with an error status
          +-- BadResponseError          the provider answered 2xx with something unusable
          |    +-- NotAListError            a /models body that is not JSON or not a list shape
          +-- MissingKeyError           no API key stored and its environment variable unset

Lower-level exceptions (SQLAlchemy, requests, PyYAML) are converted at the boundary with
``raise ... from exc`` so the original stays available as ``__cause__``. Messages never contain
an API key.
"""

from __future__ import annotations

import errno
from collections.abc import Callable, Sequence
from pathlib import Path


class ProviderStoreError(Exception):
    """Root of every error provider_store raises on purpose."""


def one_line(text: str) -> str:
    """``text`` with each character that does not print (newlines, other controls, line and
    paragraph separators) written as its Python escape (``\\n``, ``\\x1b``, ``\\u2028``)."""
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else repr(char)[1:-1] for char in text)


class InvalidDocumentError(ProviderStoreError):
    """User input (a legacy YAML file, a field value) is not acceptable.

    ``path``, ``line`` and ``column`` (1-based) say where, when known; ``field`` names the
    offending field as a dotted path such as ``providers.openai.valid_models``.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | Path | None = None,
        line: int | None = None,
        column: int | None = None,
        field: str | None = None,
    ) -> None:
        self.reason = message
        self.path = str(path) if path is not None else None
        self.line = line
        self.column = column
        self.field = field
        super().__init__(self._render())

    def _render(self) -> str:
        """``path:line:column: [field] reason``; without a path (a value given to a call or
        a command, not a file) ``[field] reason``, or the reason alone. One line whatever the
        input held: a character that does not print (a newline in a key) shows escaped."""
        field = f"[{self.field}] " if self.field else ""
        if self.path is None and self.line is None:
            return one_line(f"{field}{self.reason}")
        where = self.path or "<input>"
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        return one_line(f"{where}: {field}{self.reason}")


class InvalidQueryError(InvalidDocumentError):
    """A query parameter of the HTTP API that cannot be taken: ``param`` names it."""

    def __init__(self, param: str, message: str) -> None:
        super().__init__(message)
        self.param = param
        self.message = message


class NotFoundError(ProviderStoreError, KeyError):
    """A provider or model that the catalog does not hold."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class ProviderKeyError(NotFoundError):
    """The legacy ``KeyError`` of ``ProviderManager.get_provider_config``.

    Its ``args[0]`` is ``Provider 'KEY' not found.`` and ``str()`` quotes it as a plain
    ``KeyError`` does, as the legacy contract raises it; it is also a :class:`NotFoundError`.
    """

    def __str__(self) -> str:
        return KeyError.__str__(self)


class AmbiguousModelError(ProviderStoreError, ValueError):
    """A model name matches models of several providers; ``candidates`` lists them."""

    def __init__(self, name: str, candidates: list[str]) -> None:
        self.name = name
        self.candidates = list(candidates)
        super().__init__(f"Ambiguous model {name!r}: matches {', '.join(self.candidates)}")


class UnknownModelError(ProviderStoreError, ValueError):
    """A model string resolves to no model (or, with ``strict``, names an unknown provider).

    The message starts with the legacy contract's ``ValueError`` text (``Invalid model: gpt-4``,
    ``Invalid model for provider openai: gpt-4``), so code matching it keeps working; a
    ``(did you mean ...?)`` hint may follow. ``model_string`` is what was asked for, ``provider``
    the provider key it was looked up in (None across providers), ``suggestions`` the nearest
    ``provider/model (alias)`` strings or provider keys, best first.

    ``suggestions`` may be given as a function: it is called once, when the hints or the message
    are first read, so a caller that only catches the miss (a gateway looking up names it was
    sent) does not pay for the search of a large catalog's nearest names.
    """

    def __init__(
        self,
        message: str,
        *,
        model_string: str,
        provider: str | None = None,
        suggestions: Sequence[str] | Callable[[], Sequence[str]] | None = None,
    ) -> None:
        self.reason = message
        self.model_string = model_string
        self.provider = provider
        self._suggestions: list[str] | None = None
        self._find: Callable[[], Sequence[str]] | None = None
        if callable(suggestions):
            self._find = suggestions
        else:
            self._suggestions = list(suggestions or [])
        super().__init__(message)

    @property
    def suggestions(self) -> list[str]:
        """The nearest names, best first (searched for on first read when given as a function)."""
        if self._suggestions is None:
            find, self._find = self._find, None
            self._suggestions = list(find()) if find is not None else []
        return self._suggestions

    @property
    def args(self) -> tuple[str]:
        """``(message,)``, the message with its hints, as ``str()`` gives it."""
        return (with_suggestions(self.reason, self.suggestions),)

    @args.setter
    def args(self, value: tuple[object, ...]) -> None:
        self.reason = str(value[0]) if value else ""
        self._suggestions, self._find = [], None

    def __str__(self) -> str:
        return with_suggestions(self.reason, self.suggestions)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r})"


def with_suggestions(message: str, suggestions: list[str]) -> str:
    """``message`` followed by ``(did you mean a, b or c?)`` when there are suggestions."""
    if not suggestions:
        return message
    if len(suggestions) == 1:
        options = suggestions[0]
    else:
        options = f"{', '.join(suggestions[:-1])} or {suggestions[-1]}"
    return f"{message} (did you mean {options}?)"


class ConfigurationError(ProviderStoreError):
    """A setting, such as the database URL, is unusable."""


class ForeignDatabaseError(ConfigurationError):
    """The database holds tables but no catalog: provider-store does not add one uninvited.

    ``tables`` lists the tables found; the message says how to add a catalog on purpose.
    """

    def __init__(self, url: str, tables: list[str]) -> None:
        self.tables = list(tables)
        shown = ", ".join(tables[:5]) + (f" and {len(tables) - 5} more" if len(tables) > 5 else "")
        super().__init__(
            f"{url} is not a provider-store catalog (it holds other tables: {shown}); nothing"
            " was changed. Use an empty database (or another PostgreSQL schema), or add a"
            " catalog to this one on purpose with: provider-store --db URL db upgrade --force"
        )


class AliasTakenError(ConfigurationError):
    """An alias that another model holds: one alias names one model in the whole catalog.

    ``alias`` is the alias asked for, ``holders`` the ``provider/model`` of every model that
    holds it now (several only when a legacy file brought the alias in twice). Moving it on
    purpose: ``set_alias(..., move=True)``, ``provider-store models alias --move``.
    """

    def __init__(self, alias: str, holders: list[str]) -> None:
        self.alias = alias
        self.holders = list(holders)
        super().__init__(
            f"alias {alias!r} already names {', '.join(self.holders)}"
            " (models alias --move takes it from there)"
        )


class StoreError(ProviderStoreError):
    """The database could not be opened, migrated or written."""


class DiscoveryError(ProviderStoreError):
    """Talking to a provider's API failed."""


class ProviderConnectionError(DiscoveryError):
    """The provider could not be reached in time (refused, DNS, TLS, timeout)."""


class ProviderHTTPError(DiscoveryError):
    """The provider answered with an error status."""

    def __init__(self, message: str, *, status: int) -> None:
        self.status = status
        super().__init__(message)


class BadResponseError(DiscoveryError):
    """The provider answered, but with something that is not a usable result."""


class MissingKeyError(DiscoveryError):
    """The provider has no API key: none stored and its environment variable is unset."""


class OptionsError(InvalidDocumentError, DiscoveryError):
    """A provider's ``kind`` or connection ``options`` are unusable; ``field`` names the option.

    Refused at every entry (YAML import, ``save_config``, the CLI) as bad input; met again at
    discovery only for a row written before the rule existed, where it is a DiscoveryError.
    """


class NewerCatalogError(StoreError):
    """The database was migrated by a newer provider-store than this one."""

    def __init__(self, revision: str) -> None:
        self.revision = revision
        super().__init__(
            f"this catalog was written by a newer provider-store (revision {revision});"
            " upgrade provider-store"
        )


class NotAListError(BadResponseError):
    """A ``/models`` body is JSON but not one of the list shapes (or not JSON at all)."""


class CacheWriteError(StoreError, DiscoveryError):
    """Discovery learned something but the database refused to store it (e.g. a full disk)."""


class CatalogUnavailableError(StoreError, DiscoveryError):
    """Discovery could not read a provider's cache or take its refresh lease (no database
    connection free, the server refusing more, or the database down): nothing was fetched
    around the lease, and the last list known is served with this error."""


class RegistryError(ProviderStoreError):
    """A model registry (models.dev, a LiteLLM cost map) could not be read."""


class InvalidRegistryError(RegistryError, InvalidDocumentError):
    """What the user named as a registry is not one: not a regular file, over the size cap, not
    JSON, or not the registry's shape (bad input; an unreachable URL is a plain RegistryError)."""


# How a failed file operation is named in a message.
_ERRNO_CAUSES = {
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.EROFS: "read-only filesystem",
    errno.ENOSPC: "disk full",
    errno.EFBIG: "file too large (disk full or a file size limit)",
    errno.EDQUOT: "disk quota exceeded",
    errno.EISDIR: "is a directory",
    errno.ENOTDIR: "a part of the path is not a directory",
    errno.ENOENT: "no such file or directory (files cannot be created there)",
}


def os_cause(exc: OSError) -> str:
    """A short cause for a failed file operation: "permission denied", "disk full", ..."""
    if exc.errno in _ERRNO_CAUSES:
        return _ERRNO_CAUSES[exc.errno]
    return exc.strerror or exc.__class__.__name__
