"""Trigram postings: which names (or which providers) hold each three-character piece of text.

A substring search of a needle of three characters or more needs only the names that hold every
trigram of the needle; :mod:`provider_store.resolution.model_index` keeps such postings per
provider (trigram -> the provider's names holding it) and across providers (trigram -> the
providers holding it). Postings are tuples, which the garbage collector stops tracking.
"""

from __future__ import annotations

import bisect
import logging
import time
from collections.abc import Sequence

__all__ = ["TRIGRAM", "Postings", "build_grams", "frozen", "move_grams", "needle_grams"]

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
    grams: dict[str, list[int]] = {}
    for local, text in enumerate(names):
        if text is None:
            continue
        for gram in needle_grams(text):
            entries = grams.get(gram)
            if entries is None:
                grams[gram] = [local]
            else:
                entries.append(local)
    logger.debug(
        "Built a trigram index of %d names in %.3f s", len(names), time.perf_counter() - started
    )
    return frozen(grams)


def frozen(building: dict[str, list[int]]) -> Postings:
    """``building`` with tuples for lists (untracked by the garbage collector once seen)."""
    return {name: tuple(positions) for name, positions in building.items()}


def move_grams(places: Postings, position: int, before: Postings, after: Postings) -> None:
    """Update ``places`` (trigram -> providers) for the provider at ``position`` whose names'
    trigrams were the keys of ``before`` and are those of ``after``."""
    for gram in before.keys() - after.keys():
        held = places[gram]
        if len(held) == 1:
            del places[gram]
        else:
            at = bisect.bisect_left(held, position)
            places[gram] = held[:at] + held[at + 1 :]
    for gram in after.keys() - before.keys():
        held = places.get(gram, ())
        at = bisect.bisect_left(held, position)
        places[gram] = held[:at] + (position,) + held[at:]
