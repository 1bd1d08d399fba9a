"""``ChangeEvent``: one stored change of the catalog, as the feed returns it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from provider_store.catalog.states import EventType
from provider_store.rules.times import iso_utc

__all__ = ["ChangeEvent", "EventType"]


@dataclass(frozen=True, slots=True)
class ChangeEvent:
    """What happened to ``model`` of ``provider`` at ``observed_at`` (UTC epoch seconds).

    ``field``, ``old`` and ``new`` say what changed for ``changed`` (a metadata field or price),
    ``verdict`` (old and new verdict, ``reason`` the new one's reason), ``missing`` (``new`` is
    how many complete listings in a row lacked the model) and ``removed`` (``old`` is the
    curated status the model had). ``refresh_id`` names the listing or verdict write it came
    from.
    """

    id: int
    provider: str
    model: str
    type: EventType
    observed_at: float
    field: str | None = None
    old: Any = None
    new: Any = None
    reason: str | None = None
    refresh_id: str | None = None

    @property
    def at(self) -> datetime:
        """``observed_at`` as an aware UTC datetime."""
        return datetime.fromtimestamp(self.observed_at, UTC)

    def as_json(self) -> dict[str, Any]:
        """A JSON-ready mapping (the time as :func:`~provider_store.rules.iso_utc` writes it)."""
        return {
            "id": self.id,
            "provider": self.provider,
            "model": self.model,
            "type": self.type.value,
            "field": self.field,
            "old": self.old,
            "new": self.new,
            "reason": self.reason,
            "observed_at": iso_utc(self.observed_at),
            "refresh_id": self.refresh_id,
        }
