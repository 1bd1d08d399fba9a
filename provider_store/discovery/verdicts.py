"""Verdict rules: how a ping's outcome is classified and when a stored verdict is reused.

Pure: no network, no database. :class:`~ModelDiscoveryService` pings and
stores; this module decides.

- ``valid``: the answer's first choice says pong;
- ``invalid``: a 2xx without pong, or a definite refusal (:data:`REFUSAL_STATUSES`);
- ``inconclusive``: anything else (timeout, connection error, 401/403, 429, 5xx, garbage 2xx).

``valid`` and ``invalid`` verdicts younger than ``revalidate_after`` are reused without a ping;
``inconclusive`` ones never are.
"""

from __future__ import annotations

from provider_store.catalog.records import ValidationResult
from provider_store.catalog.tables import Verdict
from provider_store.providers.openai import PingResult

DEFAULT_REVALIDATE_AFTER = 24 * 3600.0
REFUSAL_STATUSES = frozenset({400, 404, 422})

__all__ = ["DEFAULT_REVALIDATE_AFTER", "REFUSAL_STATUSES", "classify", "is_reusable"]


def classify(ping: PingResult) -> tuple[Verdict, str]:
    """The verdict and reason for a ping's outcome.

    valid: pong; invalid: a 2xx without pong, or 400/404/422 (a definite refusal);
    inconclusive: anything else (timeout, connection error, 401/403, 429, 5xx, garbage 2xx).
    """
    if ping.pong:
        return Verdict.VALID, f"pong (HTTP {ping.status})"
    if ping.error is None:
        return Verdict.INVALID, f"answered without pong: {(ping.content or '')[:80]!r}"
    if ping.status in REFUSAL_STATUSES:
        return Verdict.INVALID, f"refused: {ping.detail}"
    return Verdict.INCONCLUSIVE, ping.detail


def is_reusable(previous: ValidationResult, revalidate_after: float, now: float) -> bool:
    """True for a ``valid`` or ``invalid`` verdict younger than ``revalidate_after`` seconds."""
    if previous.verdict is Verdict.INCONCLUSIVE:
        return False
    return 0 <= now - previous.checked_at < revalidate_after
