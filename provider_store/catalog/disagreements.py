"""Where the sources of a provider's model metadata disagree: the full report of
``registries check``.

For every model and compared field (limits, prices, the reasoning/tools/vision flags) every
pair of sources that disagree (:func:`~provider_store.catalog.reconcile.differ`) is reported,
together with the value the catalog uses and why it won. The user's overrides are the user's
choice: they are shown as the value used, never counted as a disagreement.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from provider_store.catalog.model_facts import provider_metadata
from provider_store.catalog.model_view_rows import USER
from provider_store.catalog.reconcile import COMPARED_FIELDS, Candidate, differ

__all__ = ["Disagreement", "provider_disagreements"]


@dataclass(frozen=True, slots=True)
class Disagreement:
    """One field of one model on which sources disagree: the value the catalog uses (``chosen``,
    with ``reason``), and every pair of sources (the list and the registries) that differ."""

    model_id: str
    field: str
    chosen: Candidate
    reason: str
    pairs: tuple[tuple[Candidate, Candidate], ...]

    @property
    def values(self) -> tuple[Candidate, ...]:
        """Every value involved, the chosen one first."""
        seen: list[Candidate] = [self.chosen]
        for first, second in self.pairs:
            for value in (first, second):
                if value not in seen:
                    seen.append(value)
        return tuple(seen)


def provider_disagreements(session: Session, provider_key: str) -> list[Disagreement]:
    """Every disagreement between the sources of a provider's models, by model id."""
    found: list[Disagreement] = []
    metadata = provider_metadata(session, provider_key)
    for model_id in sorted(metadata):
        for name in COMPARED_FIELDS:
            choice = metadata[model_id].choices.get(name)
            if choice is None:
                continue
            sources = [v for v in choice.candidates if v.origin != USER]
            pairs = tuple(
                (first, second)
                for i, first in enumerate(sources)
                for second in sources[i + 1 :]
                if differ(name, first.value, second.value)
            )
            if not pairs:
                continue
            chosen = choice.chosen
            reason = choice.reason or _reason_among(sources[0], metadata[model_id].order.reason)
            found.append(Disagreement(model_id, name, chosen, reason, pairs))
    return found


def _reason_among(first: Candidate, order_reason: str) -> str:
    """Why the first of the sources (the user's value aside) ranks first."""
    if first.origin == "listed":
        return "the provider's own list wins over the registries"
    return f"{first.source} ranks first: {order_reason}"
