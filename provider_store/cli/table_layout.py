"""Plain-text tables for the terminal: catalog text shown literally, keys never cut.

Listing commands print with this module instead of rich, so they start as fast as the database
layer allows. Every cell is passed through :func:`~provider_store.cli.text.visible`; columns that
hold names users type (``whole``) are never wrapped or cut; other columns fold long text onto
more lines (nothing is ever replaced by an ellipsis) so that the table fits the terminal.
"""

from __future__ import annotations

import os
import shutil
import sys
import unicodedata
from collections.abc import Iterable, Sequence
from typing import TextIO

from provider_store.cli.text import visible

GAP = "  "
# Piped output is not cut to 80 columns (unless $COLUMNS says so): rows keep their full text on
# one line for grep and logs.
PIPED_WIDTH = 240
# A folding column is never made narrower than this (or its widest cell, when smaller).
MIN_FOLD_WIDTH = 8


def output_width(stream: TextIO | None = None) -> int:
    """Columns available on ``stream`` (stdout by default): $COLUMNS, the terminal, else 240."""
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    stream = stream or sys.stdout
    if stream.isatty():
        return shutil.get_terminal_size().columns
    return PIPED_WIDTH


def cell_width(text: str) -> int:
    """Terminal columns ``text`` takes (East Asian wide characters take two)."""
    if text.isascii():
        return len(text)
    return sum(2 if unicodedata.east_asian_width(c) in ("W", "F") else 1 for c in text)


def _fold(text: str, width: int) -> list[str]:
    """``text`` cut into pieces of at most ``width`` columns, preferring breaks after spaces."""
    if cell_width(text) <= width:
        return [text]
    pieces: list[str] = []
    rest = text
    while rest:
        taken, used = 0, 0
        for char in rest:
            step = cell_width(char)
            if used + step > width and taken:
                break
            taken, used = taken + 1, used + step
        if taken < len(rest):
            space = rest.rfind(" ", 0, taken)
            if space > 0:
                taken = space + 1
        pieces.append(rest[:taken].rstrip(" "))
        rest = rest[taken:].lstrip(" ")
    return pieces


def _widths(
    natural: list[int], minimum: list[int], foldable: list[bool], available: int
) -> list[int]:
    widths = list(natural)
    excess = sum(widths) + len(GAP) * (len(widths) - 1) - available
    while excess > 0:
        candidates = [i for i, w in enumerate(widths) if foldable[i] and w > minimum[i]]
        if not candidates:
            break
        widest = max(candidates, key=lambda i: widths[i])
        others = [widths[i] for i in candidates if i != widest]
        floor = max([minimum[widest], *others]) if others else minimum[widest]
        step = min(excess, max(1, widths[widest] - floor))
        widths[widest] -= step
        excess -= step
    return widths


def render_table(
    headers: Sequence[str],
    rows: Iterable[Sequence[object]],
    *,
    whole: Iterable[int] = (0,),
    numeric: Iterable[int] = (),
    width: int | None = None,
) -> str:
    """``rows`` under ``headers`` as text at most ``width`` columns wide where possible.

    Columns in ``whole`` (by index; the first by default) and ``numeric`` ones are never folded;
    numeric columns are right-aligned. When even the whole columns do not fit, the table is as
    narrow as they allow (the terminal wraps it; no character is lost).
    """
    cells = [[visible(cell) for cell in row] for row in rows]
    fixed = set(whole) | set(numeric)
    right = set(numeric)
    count = len(headers)
    natural = [
        max([cell_width(headers[i]), *(cell_width(row[i]) for row in cells)]) for i in range(count)
    ]
    foldable = [i not in fixed for i in range(count)]
    minimum = [
        natural[i] if not foldable[i] else min(natural[i], max(MIN_FOLD_WIDTH, len(headers[i])))
        for i in range(count)
    ]
    widths = _widths(natural, minimum, foldable, width if width is not None else output_width())

    def line(parts: Sequence[str]) -> str:
        padded = []
        for i, part in enumerate(parts):
            pad = " " * (widths[i] - cell_width(part))
            padded.append(pad + part if i in right else part + pad)
        return GAP.join(padded).rstrip()

    out = [line(list(headers)), "─" * (sum(widths) + len(GAP) * (count - 1))]
    for row in cells:
        folded = [_fold(row[i], widths[i]) if foldable[i] else [row[i]] for i in range(count)]
        for n in range(max(len(f) for f in folded)):
            out.append(line([f[n] if n < len(f) else "" for f in folded]))
    return "\n".join(out)
