"""Spans of time written by people: ``90s``, ``30m``, ``12h``, ``7d``, ``2w``.

One rule for every option that takes one (``refresh --every``, ``changes --since``,
``providers set --removal-min-age``, ``db prune --keep``): a number, then one unit letter.
"""

from __future__ import annotations

import re

__all__ = ["SPAN_UNITS", "span_seconds"]

SPAN_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 7 * 86400.0}
_SPAN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$", re.IGNORECASE)


def span_seconds(text: str) -> float | None:
    """``90s``, ``30m``, ``12h``, ``7d``, ``2w`` in seconds; None when ``text`` is no span."""
    found = _SPAN.match(text)
    return float(found.group(1)) * SPAN_UNITS[found.group(2).lower()] if found else None
