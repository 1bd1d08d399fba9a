"""The query parameters each endpoint takes, checked: a bad one is a :class:`BadQuery` that
names it (a 400 answer), never a server error.

Every parameter is a short printable string; an endpoint refuses a parameter it does not take
and a parameter given twice (``capability`` may repeat). The limits come from the catalog's own
rules where it has them (a model string's length, the known capability names).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from provider_store.errors import InvalidQueryError
from provider_store.model_info import CAPABILITY_NAMES
from provider_store.rules import DEFAULT_CHANGES_LIMIT
from provider_store.rules.limits import MAX_PROVIDER_KEY_LENGTH, MAX_TEXT_LENGTH, MAX_TOKENS
from provider_store.serve.model_answers import ModelFilter

__all__ = [
    "MAX_CAPABILITIES",
    "MAX_CHANGES_LIMIT",
    "MAX_VALUE_LENGTH",
    "PARAMETERS",
    "BadQuery",
    "changes_query",
    "check_parameters",
    "models_query",
    "resolve_query",
]

MAX_VALUE_LENGTH = 512  # characters of any one query value
MAX_CAPABILITIES = 16  # ``capability`` given this many times at most
MAX_CHANGES_LIMIT = 1000  # events in one answer of /v1/changes

# Endpoint -> the parameters it takes (also what the OpenAPI description lists).
PARAMETERS: dict[str, tuple[str, ...]] = {
    "/v1/models": ("provider", "capability", "min_context", "include"),
    "/v1/models/{provider}/{model}": (),
    "/v1/resolve": ("model", "strict"),
    "/v1/changes": ("since", "limit", "provider"),
    "/v1/changes/stream": ("since",),
    "/metrics": (),
    "/healthz": (),
    "/openapi.json": (),
}
_REPEATABLE = frozenset({"capability"})


BadQuery = InvalidQueryError
"""A query parameter that cannot be taken (``param`` names it): a 400 naming it."""


def check_parameters(endpoint: str, items: Sequence[tuple[str, str]]) -> dict[str, list[str]]:
    """The query's values by name, after refusing unknown, repeated, long or unprintable
    ones."""
    allowed = PARAMETERS.get(endpoint, ())
    found: dict[str, list[str]] = {}
    for name, value in items:
        if name not in allowed:
            shown = name if len(name) <= 40 and name.isprintable() else name[:40].encode()
            raise BadQuery(
                str(shown),
                f"unknown query parameter {shown!r}; this endpoint takes: "
                + (", ".join(allowed) or "none"),
            )
        values = found.setdefault(name, [])
        if values and name not in _REPEATABLE:
            raise BadQuery(name, f"{name} is given more than once")
        if len(values) >= MAX_CAPABILITIES:
            raise BadQuery(name, f"{name} is given more than {MAX_CAPABILITIES} times")
        if len(value) > MAX_VALUE_LENGTH:
            raise BadQuery(name, f"{name} is longer than {MAX_VALUE_LENGTH} characters")
        if not value.isprintable():
            raise BadQuery(name, f"{name} holds a control character")
        values.append(value)
    return found


def _one(query: dict[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    return values[0] if values else None


def _whole(name: str, text: str, low: int, high: int) -> int:
    if not text.isascii() or not text.isdigit() or len(text) > 12:
        raise BadQuery(name, f"{name} must be a whole number from {low} to {high}")
    number = int(text)
    if not low <= number <= high:
        raise BadQuery(name, f"{name} must be a whole number from {low} to {high}")
    return number


def _flag(name: str, text: str | None) -> bool:
    if text is None:
        return False
    lowered = text.lower()
    if lowered in ("true", "1", "yes"):
        return True
    if lowered in ("false", "0", "no"):
        return False
    raise BadQuery(name, f"{name} must be true or false")


def _nonempty(name: str, text: str | None, limit: int) -> str | None:
    if text is None:
        return None
    if not text.strip():
        raise BadQuery(name, f"{name} is empty")
    if len(text) > limit:
        raise BadQuery(name, f"{name} is longer than {limit} characters")
    return text


def models_query(items: Sequence[tuple[str, str]]) -> ModelFilter:
    """The filter of ``GET /v1/models``."""
    query = check_parameters("/v1/models", items)
    include = _one(query, "include")
    if include not in (None, "all", "usable"):
        raise BadQuery("include", "include must be 'all' or 'usable'")
    context = _one(query, "min_context")
    return ModelFilter(
        provider=_nonempty("provider", _one(query, "provider"), MAX_VALUE_LENGTH),
        capabilities=frozenset(_capabilities(query.get("capability", []))),
        min_context=_whole("min_context", context, 0, MAX_TOKENS) if context else None,
        include_all=include == "all",
    )


def _capabilities(values: Iterable[str]) -> list[str]:
    found = []
    for value in values:
        name = value.strip().lower()
        if name not in CAPABILITY_NAMES:
            raise BadQuery(
                "capability",
                f"unknown capability {value[:40]!r}; known: {', '.join(CAPABILITY_NAMES)}",
            )
        found.append(name)
    return found


def resolve_query(items: Sequence[tuple[str, str]]) -> tuple[str, bool]:
    """The model string and the strictness of ``GET /v1/resolve``."""
    query = check_parameters("/v1/resolve", items)
    model = _nonempty("model", _one(query, "model"), MAX_PROVIDER_KEY_LENGTH + 1 + MAX_TEXT_LENGTH)
    if model is None:
        raise BadQuery("model", "model is required (provider/model, an alias or a model id)")
    return model, _flag("strict", _one(query, "strict"))


def changes_query(
    endpoint: str, items: Sequence[tuple[str, str]], last_event_id: str | None = None
) -> tuple[int | None, int, str | None]:
    """``(cursor, limit, provider)`` of ``GET /v1/changes`` (or of the stream, whose cursor
    may come as ``Last-Event-ID``)."""
    query = check_parameters(endpoint, items)
    since = _one(query, "since")
    if since is None and last_event_id is not None:
        since = last_event_id[:MAX_VALUE_LENGTH]
    cursor = _whole("since", since, 0, 2**63 - 1) if since is not None else None
    limit_text = _one(query, "limit")
    limit = (
        _whole("limit", limit_text, 1, MAX_CHANGES_LIMIT)
        if limit_text is not None
        else min(DEFAULT_CHANGES_LIMIT, MAX_CHANGES_LIMIT)
    )
    provider = _nonempty("provider", _one(query, "provider"), MAX_VALUE_LENGTH)
    return cursor, limit, provider
