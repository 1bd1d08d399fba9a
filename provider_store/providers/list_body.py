"""Read one ``/models`` answer body without materialising more items than the caller has room for.

A provider may answer with millions of items. ``json.loads`` would build every one of them before
we could count them; :func:`scan_list_body` walks the document's top level by hand instead and
decodes list items one at a time, stopping at ``room + 1`` items. Everything else in the document
(``object``, ``has_more``, ``last_id``, ``nextPageToken`` …) is decoded normally.

The shapes it recognises (see :mod:`provider_store.providers.list_pages` for what they mean):

- a JSON object whose ``data`` and/or ``models`` member is a list (or ``null``);
- a bare JSON array of items.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from provider_store.errors import NotAListError
from provider_store.rules.gc_pause import collector_paused

__all__ = ["LIST_KEYS", "NOT_JSON", "ListBody", "scan_list_body"]

# Top-level members that hold the listed items, in order of preference.
LIST_KEYS = ("data", "models")

NOT_JSON = "not JSON"
_WHITESPACE = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()


@dataclass
class ListBody:
    """What :func:`scan_list_body` read.

    ``members`` holds the decoded top-level members other than the item lists (empty for a bare
    array); ``lists`` the item lists found, by key (``""`` for a bare array), each holding at most
    ``room`` items; ``overflow`` is True when some list had more than ``room`` items.
    """

    members: dict[str, Any] = field(default_factory=dict)
    lists: dict[str, list[Any]] = field(default_factory=dict)
    overflow: bool = False


def scan_list_body(body: bytes, *, room: int) -> ListBody:
    """Scan ``body`` (a ``/models`` answer) keeping at most ``room`` items per list.

    Raises NotAListError when the body is not JSON or not a list shape.
    """
    try:
        text = body.decode(json.detect_encoding(body), "surrogatepass")
        with collector_paused():
            return _scan(text, max(0, room))
    except NotAListError:
        raise
    except (ValueError, UnicodeDecodeError, IndexError) as exc:
        raise NotAListError(NOT_JSON) from exc
    except RecursionError as exc:
        raise NotAListError("nested too deeply") from exc


def _scan(text: str, room: int) -> ListBody:
    result = ListBody()
    pos = _skip(text, 0)
    if text.startswith("[", pos):
        items, pos, overflow = _scan_array(text, pos, room)
        result.lists[""] = items
        result.overflow = overflow
        if overflow:
            return result
    elif text.startswith("{", pos):
        pos = _scan_object(text, pos, room, result)
        if result.overflow:
            return result
    else:
        _DECODER.raw_decode(text, pos)  # raises ValueError when it is not JSON either
        raise NotAListError("neither an object nor an array")
    if _skip(text, pos) != len(text):
        raise ValueError("extra data after the JSON document")
    return result


def _scan_object(text: str, pos: int, room: int, result: ListBody) -> int:
    pos = _skip(text, pos + 1)
    if text.startswith("}", pos):
        return pos + 1
    while True:
        key, pos = _DECODER.raw_decode(text, pos)
        if not isinstance(key, str):
            raise ValueError("object key is not a string")
        pos = _skip(text, _expect(text, pos, ":"))
        if key in LIST_KEYS and text.startswith("[", pos):
            items, pos, overflow = _scan_array(text, pos, room)
            result.lists[key] = items
            result.members.pop(key, None)
            if overflow:
                result.overflow = True
                return pos
        else:
            value, pos = _DECODER.raw_decode(text, pos)
            result.members[key] = value
            result.lists.pop(key, None)
        pos = _skip(text, pos)
        if text.startswith("}", pos):
            return pos + 1
        pos = _expect(text, pos, ",")
        pos = _skip(text, pos)


def _scan_array(text: str, pos: int, room: int) -> tuple[list[Any], int, bool]:
    """Items of the array at ``pos``; stops (overflow True) at the ``room + 1``-th item."""
    items: list[Any] = []
    pos = _skip(text, pos + 1)
    if text.startswith("]", pos):
        return items, pos + 1, False
    while True:
        item, pos = _DECODER.raw_decode(text, pos)
        if len(items) >= room:
            return items, pos, True
        items.append(item)
        pos = _skip(text, pos)
        if text.startswith("]", pos):
            return items, pos + 1, False
        pos = _expect(text, pos, ",")
        pos = _skip(text, pos)


def _skip(text: str, pos: int) -> int:
    if pos >= len(text) or text[pos] not in " \t\n\r":
        return pos
    match = _WHITESPACE.match(text, pos)
    return match.end() if match else pos


def _expect(text: str, pos: int, char: str) -> int:
    pos = _skip(text, pos)
    if not text.startswith(char, pos):
        raise ValueError(f"expected {char!r} at {pos}")
    return pos + 1
