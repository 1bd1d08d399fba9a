"""Postings: which positions hold each key, and the trigrams of names as such keys.

A substring search of a needle of three characters or more needs only the names that hold every
trigram of the needle; :mod:`provider_store.resolution.model_index` keeps such postings per
provider (trigram -> the provider's names holding it) and across providers (trigram, or a whole
name -> the providers holding it). Postings are tuples, which the garbage collector stops
tracking.
"""

from __future__ import annotations

import bisect
import logging
import time
from collections.abc import Iterable, Mapping, Sequence

__all__ = ["TRIGRAM", "Postings", "build_grams", "holders", "move_position", "needle_grams"]

logger = logging.getLogger(__name__)

TRIGRAM = 3
# key (a trigram, or a name) -> ascending positions (of names, or of providers) holding it
Postings = dict[str, tuple[int, ...]]


def needle_grams(needle: str) -> set[str]:
    """The trigrams of ``needle`` (none when it is shorter than a trigram)."""
    return {needle[i : i + TRIGRAM] for i in range(len(needle) - TRIGRAM + 1)}


def build_grams(names: Sequence[str | None]) -> Postings:
    """Trigram -> indexes (ascending) of the ``names`` holding it (None names hold none)."""
    started = time.perf_counter()
    grams = holders(needle_grams(text) if text is not None else () for text in names)
    logger.debug(
        "Built a trigram index of %d names in %.3f s", len(names), time.perf_counter() - started
    )
    return grams


def holders(keys_by_position: Iterable[Iterable[str]]) -> Postings:
    """Key -> the positions (ascending) whose keys hold it, from each position's keys in
    order."""
    building: dict[str, list[int]] = {}
    for position, keys in enumerate(keys_by_position):
        for key in keys:
            held = building.get(key)
            if held is None:
                building[key] = [position]
            else:
                held.append(position)
    return {key: tuple(positions) for key, positions in building.items()}


def move_position(
    places: Postings, position: int, before: Mapping[str, object], after: Mapping[str, object]
) -> None:
    """Update ``places`` for ``position``, whose keys were those of ``before`` and are those of
    ``after``: it leaves the keys it no longer holds and joins the new ones."""
    for key in before.keys() - after.keys():
        held = places[key]
        if len(held) == 1:
            del places[key]
        else:
            at = bisect.bisect_left(held, position)
            places[key] = held[:at] + held[at + 1 :]
    for key in after.keys() - before.keys():
        held = places.get(key, ())
        at = bisect.bisect_left(held, position)
        places[key] = held[:at] + (position,) + held[at:]
