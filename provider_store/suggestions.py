"""Nearest-name hints for "did you mean ...?" messages (pure functions, no I/O).

A name is suggested only when it is near what was typed: most of it the same (difflib's ratio at
least :data:`CUTOFF`), or, for short names where one slip changes the ratio a lot, one letter
added, dropped, changed or two swapped. ``nope`` suggests nothing, ``opnai`` suggests ``openai``.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from provider_store.errors import NotFoundError, with_suggestions

# The one wording of a model the catalog does not hold, whatever asked for it.
UNKNOWN_MODEL = "Unknown model: {asked}"

# difflib's similarity ratio a name needs to be suggested (difflib's own default, 0.6, finds
# "openai" near "nope").
CUTOFF = 0.75
# Names this long are also suggested at one slip (one edit or one swap of neighbours); under
# three letters one slip makes another word.
MIN_SLIP_NAME = 3
SHORT_NAME = 6
LIMIT = 3


def one_slip(a: str, b: str) -> bool:
    """Whether ``b`` is ``a`` with one letter added, dropped, changed, or two neighbours swapped."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diffs = [i for i in range(len(a)) if a[i] != b[i]]
        if len(diffs) == 1:
            return True
        first, second = (diffs + [0, 0])[:2]
        return (
            len(diffs) == 2
            and second == first + 1
            and (a[first], a[second]) == (b[second], b[first])
        )
    shorter, longer = (a, b) if len(a) < len(b) else (b, a)
    return any(longer[:i] + longer[i + 1 :] == shorter for i in range(len(longer)))


def close_matches(word: str, choices: Iterable[str], *, limit: int = LIMIT) -> list[str]:
    """Up to ``limit`` of ``choices`` near ``word``, best first (both already lower case)."""
    pool = list(dict.fromkeys(choices))
    found = difflib.get_close_matches(word, pool, n=limit, cutoff=CUTOFF)
    if MIN_SLIP_NAME <= len(word) <= SHORT_NAME and len(found) < limit:
        found += [c for c in pool if c not in found and one_slip(word, c)][: limit - len(found)]
    return found


def nearest(word: str, choices: Iterable[str], *, limit: int = LIMIT) -> list[str]:
    """Up to ``limit`` of ``choices`` near ``word`` (ignoring case), best first."""
    by_lower: dict[str, str] = {}
    for choice in choices:
        by_lower.setdefault(choice.lower(), choice)
    return [by_lower[match] for match in close_matches(word.lower(), by_lower, limit=limit)]


def unknown_provider(key: str, known: Iterable[str]) -> NotFoundError:
    """``NotFoundError("Unknown provider: KEY")``, with the nearest known keys suggested."""
    return NotFoundError(with_suggestions(f"Unknown provider: {key}", nearest(key, known)))


def unknown_model_message(asked: str, hints: Iterable[str] = ()) -> str:
    """``Unknown model: ASKED`` (what was typed: ``openai/gpt-5``, ``4o``), with the nearest
    models suggested: the one wording of an unknown model, for every command and library call."""
    return with_suggestions(UNKNOWN_MODEL.format(asked=asked), list(hints))
