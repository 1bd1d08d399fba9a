"""Text the CLI prints: catalog text made safe for a terminal, and the one way it shows times,
shares and spans.

Model ids, provider names and provider error messages come from third parties. Markup is never
interpreted (the consoles print text literally); :func:`visible` handles what a terminal itself
would interpret: ANSI escape sequences, carriage returns and line breaks, bidirectional
overrides and other invisible controls. :func:`iso_time` is every time of ``--json``,
:func:`percent` every share in text (``--json`` gives the fraction from 0 to 1), and
:func:`span_text` every span of time.
"""

from __future__ import annotations

import unicodedata

from provider_store.rules.limits import DAY_SECONDS
from provider_store.rules.times import iso_utc

# Control (Cc), format (Cf: bidi overrides, zero-width marks) and line/paragraph separators.
_CONTROL_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp"})
# Joiners are format characters too, but they only shape emoji and scripts.
_JOINERS = frozenset("\u200c\u200d")


def _shown(char: str) -> str:
    if char.isprintable() or char in _JOINERS:
        return char
    if unicodedata.category(char) not in _CONTROL_CATEGORIES:
        return char
    code = ord(char)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def visible(text: object) -> str:
    """``text`` on one line with every control character shown as an escape (``\\x1b``).

    Printable text, including non-ASCII letters and spaces, is kept as is.
    """
    value = str(text)
    if value.isprintable():
        return value
    return "".join(_shown(char) for char in value)


def iso_time(epoch: float | None) -> str | None:
    """``epoch`` seconds as every ``--json`` writes a time: ISO 8601 in UTC ending in ``Z``
    (:func:`provider_store.rules.iso_utc`), None as None."""
    return iso_utc(epoch)


def percent(fraction: float | None) -> str:
    """A share from 0 to 1 as text shows it: ``97%`` (``99.5%`` near the ends), ``-`` when
    unknown. ``--json`` gives the fraction itself."""
    if fraction is None:
        return "-"
    value = 100 * fraction
    if 0 < value < 1 or 99 < value < 100:
        return f"{value:.1f}%"
    return f"{value:.0f}%"


def span_text(seconds: float) -> str:
    """A span of seconds in the largest unit that divides it: ``10m``, ``1h``, ``2w``,
    ``90s`` (how the CLI shows a TTL or a minimum age; its options read it back)."""
    for unit, size in (("w", 7 * DAY_SECONDS), ("d", DAY_SECONDS), ("h", 3600.0), ("m", 60.0)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds / size:g}{unit}"
    return f"{seconds:g}s"
