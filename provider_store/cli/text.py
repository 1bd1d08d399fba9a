"""Catalog text made safe to show on a terminal: control characters become visible escapes.

Model ids, provider names and provider error messages come from third parties. Markup is never
interpreted (the consoles print text literally); this module handles what a terminal itself would
interpret: ANSI escape sequences, carriage returns and line breaks, bidirectional overrides and
other invisible controls.
"""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime

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
    """``epoch`` seconds as ISO 8601 in UTC (``2026-01-31T12:00:00+00:00``), None as None.

    Every time the CLI gives in ``--json`` is written this way.
    """
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch, tz=UTC).isoformat(timespec="seconds")
