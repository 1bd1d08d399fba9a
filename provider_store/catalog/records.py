"""The record of one validation verdict, as the catalog stores it and discovery produces it."""

from __future__ import annotations

from dataclasses import dataclass, field

from provider_store.catalog.states import Verdict


@dataclass(frozen=True)
class ValidationResult:
    """The verdict of one model's validation ping (or of a reused stored verdict).

    ``ping_style`` is the request style the provider accepted (stored and tried first next
    time; None when no request was accepted), ``problem`` a provider-wide problem the ping
    revealed (a rejected key, no credit), None otherwise. ``latency_ms`` is how long the ping's
    HTTP exchange took (None when no ping was sent).
    """

    model: str
    verdict: Verdict
    reason: str
    checked_at: float
    reused: bool = False
    ping_style: str | None = field(default=None, compare=False)
    problem: str | None = field(default=None, compare=False)
    latency_ms: float | None = field(default=None, compare=False)

    @property
    def valid(self) -> bool:
        """True iff the verdict is ``valid``."""
        return self.verdict is Verdict.VALID
