"""The one width policy of every table and feed, and the plain-text tables that follow it.

**Width** (:func:`output_width`): ``$COLUMNS`` when set, else the terminal's width; output that
goes to a pipe or a file has no width at all, so every row and every feed line stays whole on
one line for grep and logs. Nothing is ever cut or replaced by an ellipsis.

**Tables** (:func:`render_table`): listing commands print with this module instead of rich, so
they start as fast as the database layer allows. Every cell is passed through
:func:`~provider_store.cli.text.visible`. A word is never cut: names users type (``whole``
columns: keys, model ids, aliases) and numbers stay on one line, other text folds between words;
only ``breakable`` columns (URLs) may be cut anywhere. When the table still does not fit, the
caller's ``optional`` columns are left out one by one (a last line says so), and when even that
is not enough every row is printed as one field per line.

**Feeds** (:func:`feed_line`): one line per item; within a width, the text after the head folds
between words onto indented lines.
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
# A breakable column is never made narrower than this (or its widest cell, when smaller).
MIN_FOLD_WIDTH = 8
# The indent of a feed line's folded continuation lines.
FEED_INDENT = "    "


def output_width(stream: TextIO | None = None) -> int | None:
    """Columns available on ``stream`` (stdout by default): $COLUMNS, the terminal's width, or
    None (no limit) when the stream is not a terminal."""
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    stream = stream or sys.stdout
    try:
        terminal = stream.isatty()
    except (AttributeError, ValueError):  # a closed or unusual stream
        terminal = False
    return shutil.get_terminal_size().columns if terminal else None


def feed_line(head: str, detail: str = "", width: int | None = None) -> str:
    """One feed item: ``head  detail`` on one line when it fits ``width`` (always when None),
    else ``head`` followed by the detail folded between words on indented lines; catalog text
    is shown with :func:`~provider_store.cli.text.visible`."""
    head, detail = visible(head), visible(detail)
    line = f"{head}  {detail}" if detail else head
    if width is None or cell_width(line) <= width:
        return line
    if not detail:
        return head
    parts = _wrap(detail, max(width - len(FEED_INDENT), MIN_FOLD_WIDTH))
    first = f"{head}  {parts[0]}"
    if cell_width(first) <= width:
        return "\n".join([first, *(f"{FEED_INDENT}{part}" for part in parts[1:])])
    return "\n".join([head, *(f"{FEED_INDENT}{part}" for part in parts)])


def cell_width(text: str) -> int:
    """Terminal columns ``text`` takes (East Asian wide characters take two)."""
    if text.isascii():
        return len(text)
    return sum(2 if unicodedata.east_asian_width(c) in ("W", "F") else 1 for c in text)


def _cut(text: str, width: int) -> list[str]:
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


def _wrap(text: str, width: int) -> list[str]:
    """``text`` folded between words into lines of at most ``width`` columns where possible.

    A word longer than ``width`` keeps a line of its own, whole.
    """
    if cell_width(text) <= width:
        return [text]
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}" if current else word
        if current and cell_width(candidate) > width:
            lines.append(current)
            current = word
        else:
            current = candidate
    lines.append(current)
    return lines


def _longest_word(text: str) -> int:
    return max((cell_width(word) for word in text.split()), default=0)


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


def _table(
    headers: Sequence[str],
    cells: list[list[str]],
    *,
    fixed: set[int],
    breakable: set[int],
    right: set[int],
    available: int,
) -> str | None:
    """The table within ``available`` columns, or None when it cannot fit without cutting."""
    count = len(headers)
    # ASCII text takes one column per character: len() measures it (the common case, fast).
    measure = len if all("".join(row).isascii() for row in (headers, *cells)) else cell_width
    natural = [
        max([measure(headers[i]), *map(measure, (row[i] for row in cells))]) for i in range(count)
    ]
    foldable = [i not in fixed for i in range(count)]
    minimum = []
    for i in range(count):
        if not foldable[i]:
            minimum.append(natural[i])
        elif i in breakable:
            minimum.append(min(natural[i], max(MIN_FOLD_WIDTH, cell_width(headers[i]))))
        else:
            longest = max([_longest_word(headers[i]), *(_longest_word(row[i]) for row in cells)])
            minimum.append(max(longest, cell_width(headers[i])))
    if sum(minimum) + len(GAP) * (count - 1) > available:
        return None
    widths = _widths(natural, minimum, foldable, available)

    def line(parts: Sequence[str]) -> str:
        padded = []
        for i, part in enumerate(parts):
            pad = " " * (widths[i] - measure(part))
            padded.append(pad + part if i in right else part + pad)
        return GAP.join(padded).rstrip()

    def fold(i: int, text: str) -> list[str]:
        if not foldable[i]:
            return [text]
        return _cut(text, widths[i]) if i in breakable else _wrap(text, widths[i])

    out = [line(list(headers)), "─" * (sum(widths) + len(GAP) * (count - 1))]
    if widths == natural:  # every cell fits its column: one line per row
        if measure is len:  # ASCII: str.format pads each column as line() would
            template = GAP.join(
                f"{{:{'>' if i in right else '<'}{width}}}" for i, width in enumerate(widths)
            )
            out.extend(template.format(*row).rstrip() for row in cells)
        else:
            out.extend(map(line, cells))
        return "\n".join(out)
    for row in cells:
        folded = [fold(i, row[i]) for i in range(count)]
        for n in range(max(len(f) for f in folded)):
            out.append(line([f[n] if n < len(f) else "" for f in folded]))
    return "\n".join(out)


def _records(headers: Sequence[str], cells: list[list[str]]) -> str:
    """Every row as one ``header  value`` line per field, rows apart by a blank line."""
    label = max(cell_width(header) for header in headers)
    blocks = []
    for row in cells:
        blocks.append(
            "\n".join(
                f"{header}{' ' * (label - cell_width(header))}  {value}".rstrip()
                for header, value in zip(headers, row, strict=True)
            )
        )
    return "\n\n".join(blocks)


def _visible_row(row: Sequence[object]) -> list[str]:
    """The cells of ``row`` as :func:`~provider_store.cli.text.visible` shows them (checked
    at once for the common row of printable text only)."""
    texts = [str(cell) for cell in row]
    return texts if "".join(texts).isprintable() else [visible(text) for text in texts]


def render_table(
    headers: Sequence[str],
    rows: Iterable[Sequence[object]],
    *,
    whole: Iterable[int] = (0,),
    numeric: Iterable[int] = (),
    breakable: Iterable[int] = (),
    optional: Sequence[int] = (),
    width: int | None = None,
) -> str:
    """``rows`` under ``headers`` as text at most ``width`` columns wide where possible
    (default: :func:`output_width`; none when output is piped).

    Columns in ``whole`` (by index; the first by default) and ``numeric`` ones are never folded;
    numeric columns are right-aligned; ``breakable`` ones (URLs) may be cut anywhere; any other
    column folds between words. When that does not fit, the ``optional`` columns are left out in
    the order given, with a last line naming them; when even the rest does not fit, each row is
    shown as one field per line (every field, nothing cut).
    """
    cells = [_visible_row(row) for row in rows]
    available = width if width is not None else output_width()
    if available is None:  # no limit: every row on one line
        available = sys.maxsize
    fixed = set(whole) | set(numeric)
    shown = list(range(len(headers)))
    dropped: list[int] = []
    for leave_out in [None, *optional]:
        if leave_out is not None:
            shown.remove(leave_out)
            dropped.append(leave_out)
        position = {column: n for n, column in enumerate(shown)}
        table = _table(
            [headers[i] for i in shown],
            cells if not dropped else [[row[i] for i in shown] for row in cells],
            fixed={position[i] for i in fixed if i in position},
            breakable={position[i] for i in breakable if i in position},
            right={position[i] for i in numeric if i in position},
            available=available,
        )
        if table is not None:
            if not dropped:
                return table
            names = ", ".join(headers[i] for i in sorted(dropped))
            return f"{table}\n({names} left out to fit {available} columns; --json shows all)"
    return _records(headers, cells)
