"""The record of one validation verdict, as the catalog stores it and discovery produces it."""

from __future__ import annotations

from dataclasses import dataclass

from provider_store.catalog.tables import Verdict


@dataclass(frozen=True)
class ValidationResult:
    """The verdict of one model's validation ping (or of a reused stored verdict)."""

    model: str
    verdict: Verdict
    reason: str
    checked_at: float
    reused: bool = False

    @property
    def valid(self) -> bool:
        """True iff the verdict is ``valid``."""
        return self.verdict is Verdict.VALID
