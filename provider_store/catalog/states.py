"""The values the catalog stores in its status, verdict and event-type columns, and its clock.

Kept apart from :mod:`provider_store.catalog.tables` so that code which only names a status or
reads the clock does not build the SQLModel table classes (tens of milliseconds at start-up).
"""

from __future__ import annotations

import enum
import time

__all__ = ["EventType", "ModelStatus", "Verdict", "utc_now"]


def utc_now() -> float:
    """Current time as UTC epoch seconds, the unit of every timestamp column."""
    return time.time()


class ModelStatus(enum.StrEnum):
    """Where a model stands in the curated catalog."""

    VALID = "valid"
    INVALID = "invalid"
    UNVERIFIED = "unverified"


class Verdict(enum.StrEnum):
    """The outcome of the last validation ping."""

    VALID = "valid"
    INVALID = "invalid"
    INCONCLUSIVE = "inconclusive"


class EventType(enum.StrEnum):
    """What a change event says happened to a model."""

    ADDED = "added"
    MISSING = "missing"
    REMOVED = "removed"
    REAPPEARED = "reappeared"
    CHANGED = "changed"
    VERDICT = "verdict"
