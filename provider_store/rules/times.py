"""How a time is written for scripts: ISO 8601 in UTC, to the second, ending in ``Z``.

One rule for every ``--json`` of the CLI and every ``as_json`` of the library
(``2026-01-31T12:00:00Z``); Python reads it back with ``datetime.fromisoformat``.
"""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["iso_utc"]


def iso_utc(epoch: float | None) -> str | None:
    """``epoch`` seconds as ``2026-01-31T12:00:00Z`` (None as None)."""
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
