"""The checks every registry reader applies to a value before the catalog sees it.

A registry value is kept only when the catalog can store it on both backends and show it as a
number: token counts are whole numbers from 1 to :data:`MAX_TOKENS` (0 means "not known"),
prices are finite, at least 0 and at most :data:`MAX_PRICE` USD per million tokens, and a
price of 0 only where the model is free (otherwise it is unknown, not free). Anything else
(NaN, Infinity, 1e308, a string where a number belongs) is dropped with a one-line note naming
the entry and the field (:class:`Notes`).
"""

from __future__ import annotations

import math
from typing import Any

from provider_store.registries.json_reader import NotANumber

__all__ = [
    "MAX_NOTES",
    "MAX_PRICE",
    "MAX_TOKENS",
    "Notes",
    "per_million",
    "price",
    "source_name",
    "tokens",
]

# The largest value an INTEGER column holds on every backend (PostgreSQL INTEGER is 32 bits).
MAX_TOKENS = 2**31 - 1
# USD per million tokens: far above any real price, far below an overflow per token and back.
MAX_PRICE = 1_000_000.0
# Notes kept per registry read; the rest are counted.
MAX_NOTES = 200


class Notes:
    """One-line notes of a registry read (what was refused, dropped or found twice), in order;
    after :data:`MAX_NOTES` only counted. Zero prices left unknown are counted apart."""

    def __init__(self) -> None:
        self._lines: list[str] = []
        self._more = 0
        self.zero_prices = 0

    def add(self, line: str) -> None:
        """Note ``line`` (one line; longer ones are cut)."""
        if len(self._lines) < MAX_NOTES:
            self._lines.append(" ".join(line.split())[:500])
        else:
            self._more += 1

    def lines(self) -> tuple[str, ...]:
        """The notes, then a count of those not kept and of zero prices left unknown."""
        found = list(self._lines)
        if self._more:
            found.append(f"… and {self._more} more notes")
        if self.zero_prices:
            found.append(
                f"{self.zero_prices} prices of 0 for models not said to be free: left unknown"
            )
        return tuple(found)


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _number(value: Any, where: str, field: str, notes: Notes) -> float | None:
    """``value`` as a finite number, or None (noting why, unless it is simply absent)."""
    if value is None:
        return None
    if isinstance(value, NotANumber):
        notes.add(f"{where}: {field} {value!r} is not a finite number; dropped")
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        notes.add(f"{where}: {field} {_shown(value)} is not a number; dropped")
        return None
    number = float(value)
    if not math.isfinite(number):
        notes.add(f"{where}: {field} {_shown(value)} is not a finite number; dropped")
        return None
    return number


def tokens(value: Any, where: str, field: str, notes: Notes) -> int | None:
    """A token limit: a whole number from 1 to :data:`MAX_TOKENS`; 0 (and absence) is "not
    known"; anything else is dropped with a note."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_TOKENS:
        return value  # the common case, without the float detour (exact for any int)
    number = _number(value, where, field, notes)
    if number is None or number == 0:
        return None
    if number < 0 or number != int(number) or number > MAX_TOKENS:
        notes.add(
            f"{where}: {field} {_shown(value)} is not a whole number from 1 to {MAX_TOKENS};"
            " dropped"
        )
        return None
    return int(number)


def price(value: Any, where: str, field: str, notes: Notes, *, free: bool) -> float | None:
    """A price in USD per million tokens: finite, from 0 to :data:`MAX_PRICE`; a 0 only when
    the model is ``free`` (else unknown, counted in ``notes.zero_prices``)."""
    number = _number(value, where, field, notes)
    return _checked_price(number, value, where, field, notes, free=free)


def per_million(value: Any, where: str, field: str, notes: Notes, *, free: bool) -> float | None:
    """A price per token as USD per million tokens (rounded to what the source gave: 9
    decimals), checked as :func:`price`."""
    number = _number(value, where, field, notes)
    if number is None:
        return None
    scaled = round(number * 1_000_000, 9) if math.isfinite(number * 1_000_000) else math.inf
    return _checked_price(scaled, value, where, field, notes, free=free)


def _checked_price(
    number: float | None, value: Any, where: str, field: str, notes: Notes, *, free: bool
) -> float | None:
    if number is None:
        return None
    if number < 0 or not number <= MAX_PRICE:
        notes.add(
            f"{where}: {field} {_shown(value)} is outside 0 to {MAX_PRICE:g} USD per million"
            " tokens; dropped"
        )
        return None
    if number == 0 and not free:
        notes.zero_prices += 1
        return None
    return number


def source_name(origin: str, version: str | None, content_hash: str) -> str:
    """How a registry's values name their source: ``litellm 1.110.2``, or ``litellm
    sha256:0123456789ab`` when nothing names a version."""
    if version:
        return f"{origin} {version}"
    if content_hash:
        return f"{origin} sha256:{content_hash[:12]}"
    return origin
