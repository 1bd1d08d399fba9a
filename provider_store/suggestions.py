"""Nearest-name hints for "did you mean ...?" messages (pure functions, no I/O)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from provider_store.errors import NotFoundError, with_suggestions

# difflib's similarity ratio a name needs to be suggested (0.6 is difflib's own default).
CUTOFF = 0.6
LIMIT = 3


def nearest(word: str, choices: Iterable[str], *, limit: int = LIMIT) -> list[str]:
    """Up to ``limit`` of ``choices`` closest to ``word`` (ignoring case), best first."""
    by_lower: dict[str, str] = {}
    for choice in choices:
        by_lower.setdefault(choice.lower(), choice)
    matches = difflib.get_close_matches(word.lower(), list(by_lower), n=limit, cutoff=CUTOFF)
    return [by_lower[match] for match in matches]


def unknown_provider(key: str, known: Iterable[str]) -> NotFoundError:
    """``NotFoundError("Unknown provider: KEY")``, with the nearest known keys suggested."""
    return NotFoundError(with_suggestions(f"Unknown provider: {key}", nearest(key, known)))
