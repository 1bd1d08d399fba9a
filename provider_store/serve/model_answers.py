"""What the server says about a model: OpenAI's model object, extended with the catalog's
metadata (each value with its source), status, verdict, aliases, 7-day availability and
latency; and the filters of ``GET /v1/models`` (those of ``models list``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from provider_store.history.ping_stats import ModelStats
from provider_store.serve.catalog_view import ServedModel

__all__ = ["ModelFilter", "model_entry"]


def model_entry(
    model: ServedModel, aliases: Sequence[str], stats: ModelStats | None
) -> dict[str, Any]:
    """The JSON object of one model in ``GET /v1/models`` and ``GET /v1/models/{id}``."""
    created = model.values.get("created")
    return {
        "id": model.id,
        "object": "model",
        "created": int(created) if isinstance(created, int | float) else 0,
        "owned_by": model.provider,
        "provider": model.provider,
        "model": model.model,
        "aliases": list(aliases),
        "status": model.status,
        "status_reason": model.status_reason,
        "usable": model.usable,
        "verdict": model.verdict,
        "verdict_reason": model.verdict_reason,
        "availability_7d": round(stats.availability, 4) if stats is not None else None,
        "latency_p50_ms": _round(stats.p50_ms) if stats is not None else None,
        "latency_p95_ms": _round(stats.p95_ms) if stats is not None else None,
        "pings_7d": stats.count if stats is not None else 0,
        "metadata": {
            name: {"value": value, "source": model.sources.get(name)}
            for name, value in model.values.items()
        },
    }


def _round(value: float | None) -> float | None:
    return round(value, 1) if value is not None else None


@dataclass(frozen=True, slots=True)
class ModelFilter:
    """The query filters of ``GET /v1/models``: one provider, capabilities every model must
    list, a smallest context window, and whether models that are not usable are included."""

    provider: str | None = None
    capabilities: frozenset[str] = frozenset()
    min_context: int | None = None
    include_all: bool = False

    @property
    def is_default(self) -> bool:
        """True for no filter at all (the answer served from the prepared body)."""
        return self == ModelFilter()

    def keeps(self, model: ServedModel) -> bool:
        """True when ``model`` passes every filter."""
        if not (self.include_all or model.usable):
            return False
        if self.provider is not None and model.provider.lower() != self.provider.lower():
            return False
        values: Mapping[str, Any] = model.values
        if self.min_context is not None:
            context = values.get("context_length")
            if not isinstance(context, int) or context < self.min_context:
                return False
        if self.capabilities:
            listed = values.get("capabilities") or ()
            if not self.capabilities <= {str(c).lower() for c in listed}:
                return False
        return True
