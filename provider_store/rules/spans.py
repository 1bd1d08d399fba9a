"""Spans of time written by people: ``90s``, ``15m``, ``2h``, ``7d``, ``1w``, or ``90``.

One rule for every option and setting that takes one (``refresh --every``, ``changes --since``,
``providers set --ttl`` and ``--removal-min-age``, ``db prune --keep``, ``discover
--deadline``): a number, then one unit letter; a bare number is seconds. No span is longer than
:data:`~provider_store.rules.limits.MAX_SPAN_SECONDS`.
"""

from __future__ import annotations

import re

from provider_store.errors import InvalidDocumentError
from provider_store.rules.limits import DAY_SECONDS, MAX_SPAN_SECONDS

__all__ = ["SPAN_EXAMPLES", "SPAN_UNITS", "parse_span", "span_seconds"]

SPAN_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": DAY_SECONDS, "w": 7 * DAY_SECONDS}
# How every message and help text shows the grammar.
SPAN_EXAMPLES = "90s, 15m, 2h, 7d, 1w; a bare number is seconds"
# Digits only: NaN, infinities, signs and exponents are no spans.
_SPAN = re.compile(r"^\s*(\d{1,30}(?:\.\d{1,30})?)\s*([smhdw]?)\s*$", re.IGNORECASE)


def span_seconds(text: str) -> float | None:
    """``90s``, ``15m``, ``2h``, ``7d``, ``1w`` (or ``90``: seconds) in seconds; None when
    ``text`` is no span. The length is not checked here (see :func:`parse_span`)."""
    found = _SPAN.match(text)
    if found is None:
        return None
    unit = found.group(2).lower() or "s"
    return float(found.group(1)) * SPAN_UNITS[unit]


def parse_span(text: str, *, field: str = "span", maximum: float = MAX_SPAN_SECONDS) -> float:
    """Seconds in the span ``text``, from 0 to ``maximum``; InvalidDocumentError naming
    ``field`` for anything else (no span, or too long)."""
    seconds = span_seconds(text)
    if seconds is None:
        raise InvalidDocumentError(f"{text!r} is not a span of time ({SPAN_EXAMPLES})", field=field)
    if seconds > maximum:
        raise InvalidDocumentError(
            f"{text!r} is longer than the longest span, {maximum:.0f} seconds"
            f" ({describe_seconds(maximum)})",
            field=field,
        )
    return seconds


def describe_seconds(seconds: float) -> str:
    """``seconds`` in the largest unit that keeps it readable: ``68 years``, ``1 day``."""
    for unit, size in (("year", 365.25 * DAY_SECONDS), ("day", DAY_SECONDS), ("hour", 3600.0)):
        if seconds >= size:
            count = seconds / size
            return f"about {count:.0f} {unit}{'s' if round(count) != 1 else ''}"
    return f"{seconds:g} seconds"
