"""JSON of a registry, decoded so that nothing it says twice is lost silently.

Python's reader keeps the last of two equal keys in an object and turns ``NaN`` and
``Infinity`` into floats. :func:`decode_json` sees every key (``object_pairs_hook``): an object
that gives one key twice with different values comes back as a :class:`Duplicated` mapping
naming those keys (its reader refuses what it says), and the top-level object's repeated keys
are returned as notes. ``NaN``, ``Infinity`` and ``-Infinity`` become :class:`NotANumber`
values, which no reader accepts as a number. Any decoding problem is one
:class:`~provider_store.errors.InvalidRegistryError` line naming the file, line and column.
"""

from __future__ import annotations

import json
from typing import Any

from provider_store.errors import InvalidRegistryError

__all__ = ["Duplicated", "NotANumber", "decode_json"]


class Duplicated(dict[str, Any]):
    """A decoded JSON object that gives some keys (``conflicts``) twice with different values;
    each such key holds the last value given."""

    conflicts: tuple[str, ...] = ()


class NotANumber:
    """A ``NaN``, ``Infinity`` or ``-Infinity`` of the JSON text."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


def decode_json(body: bytes, location: str, what: str) -> tuple[dict[str, Any], dict[str, str]]:
    """The top-level object of ``body`` and, per key given more than once in it, a note
    (starting ``conflicting`` when the values differ). ``what`` names the registry kind in
    errors ("a LiteLLM cost map")."""
    top: list[list[tuple[str, Any]]] = []

    def hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        top[:] = [pairs]  # the top-level object is decoded last
        built: dict[str, Any] = {}
        conflicts: list[str] = []
        for key, value in pairs:
            if key in built and key not in conflicts and not _same(built[key], value):
                conflicts.append(key)
            built[key] = value
        if not conflicts:
            return built
        marked = Duplicated(built)
        marked.conflicts = tuple(conflicts)
        return marked

    try:
        text = body.decode("utf-8-sig")
        document = json.loads(text, object_pairs_hook=hook, parse_constant=NotANumber)
    except UnicodeDecodeError as exc:
        raise InvalidRegistryError(
            f"not {what}: not UTF-8 text (byte {exc.start})", path=location
        ) from exc
    except json.JSONDecodeError as exc:
        raise InvalidRegistryError(
            f"not {what}: not JSON ({exc.msg})", path=location, line=exc.lineno, column=exc.colno
        ) from exc
    except RecursionError as exc:
        raise InvalidRegistryError(f"not {what}: nested too deeply", path=location) from exc
    if not isinstance(document, dict):
        raise InvalidRegistryError(f"not {what}: not a JSON object", path=location)
    counted: dict[str, list[Any]] = {}
    for key, value in top[0] if top else []:
        counted.setdefault(key, []).append(value)
    notes: dict[str, str] = {}
    for key, values in counted.items():
        if len(values) < 2:
            continue
        if all(_same(value, values[0]) for value in values[1:]):
            notes[key] = f"duplicate key {key!r} given {len(values)} times with the same values"
        else:
            notes[key] = (
                f"conflicting entries: key {key!r} given {len(values)} times with different"
                " values; refused"
            )
    return document, notes


def _same(a: Any, b: Any) -> bool:
    """Equal JSON values (two NaNs of the text count as equal to each other)."""
    if isinstance(a, NotANumber) or isinstance(b, NotANumber):
        return isinstance(a, NotANumber) and isinstance(b, NotANumber) and a.text == b.text
    return bool(a == b)
