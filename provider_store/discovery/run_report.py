"""The options, progress events and per-provider summaries of a discovery run.

:class:`DiscoveryReport` is what :meth:`ProviderManager.discover` returns and what the CLI's summary
table shows: per provider, how many models were discovered, found valid, invalid or inconclusive,
where the list came from (fresh, cache, stale, none) and the failure if any.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field

from provider_store.discovery.results import Source
from provider_store.errors import ConfigurationError
from provider_store.rules import check_deadline
from provider_store.rules.limits import DEFAULT_CONCURRENCY, DEFAULT_DEADLINE, DEFAULT_PER_PROVIDER


class ProviderStatus(enum.StrEnum):
    """How discovery ended for one provider (a ``str``: ``status == "ok"`` still works)."""

    OK = "ok"  # the list was fetched (or served fresh) and the models checked
    FAILED = "failed"  # the list could not be fetched; nothing was saved for the provider
    SKIPPED = "skipped"  # not attempted (no usable API key)


class Phase(enum.StrEnum):
    """The step a :class:`ProgressEvent` reports (a ``str``: it compares equal to its name)."""

    DISCOVERING = "discovering"
    VALIDATING = "validating"
    DONE = "done"


SKIPPED = ProviderStatus.SKIPPED
FAILED = ProviderStatus.FAILED
OK = ProviderStatus.OK


@dataclass(frozen=True)
class DiscoveryOptions:
    """How a discovery run behaves; :meth:`build` fills in defaults for None."""

    force_refresh: bool = False
    validate: bool = True
    concurrency: int = DEFAULT_CONCURRENCY
    per_provider: int = DEFAULT_PER_PROVIDER
    deadline: float = DEFAULT_DEADLINE
    # Fetch the model lists even when their cache is fresh (stored verdicts are still reused).
    refresh_list: bool = False

    @classmethod
    def build(
        cls,
        *,
        force_refresh: bool = False,
        validate: bool = True,
        concurrency: int | None = None,
        per_provider: int | None = None,
        deadline: float | None = None,
    ) -> DiscoveryOptions:
        """Options with defaults for every None; bounds must be >= 1, the deadline finite,
        above 0 and at most a day (ConfigurationError otherwise)."""
        options = cls(
            force_refresh=force_refresh,
            validate=validate,
            concurrency=DEFAULT_CONCURRENCY if concurrency is None else concurrency,
            per_provider=DEFAULT_PER_PROVIDER if per_provider is None else per_provider,
            deadline=DEFAULT_DEADLINE if deadline is None else deadline,
        )
        if options.concurrency < 1 or options.per_provider < 1:
            raise ConfigurationError("concurrency bounds must be at least 1")
        check_deadline(options.deadline)
        return options


@dataclass(frozen=True)
class ProgressEvent:
    """A step of one provider's run: ``phase`` is discovering, validating or done.

    While validating, ``completed`` of ``total`` models are checked; ``summary`` comes with
    ``done``.
    """

    provider: str
    phase: Phase
    completed: int = 0
    total: int = 0
    summary: ProviderSummary | None = None


ProgressCallback = Callable[[ProgressEvent], None]


@dataclass(frozen=True)
class ProviderSummary:
    """What discovery did for one provider (counts refer to the discovered ids).

    ``status`` is ``ok``, ``failed`` or ``skipped``; ``source`` is fresh / cache / stale / none
    (None when skipped); ``error`` is a key-free description of the failure; ``problem`` a
    provider-wide problem a ping revealed (a rejected key, no credit), after which the
    provider's other pings were not sent.
    """

    provider: str
    status: ProviderStatus
    discovered: int = 0
    valid: int = 0
    invalid: int = 0
    inconclusive: int = 0
    source: Source | None = None
    error: str | None = None
    seconds: float = 0.0
    problem: str | None = None

    @property
    def ok(self) -> bool:
        """True unless the provider failed (a skipped provider is not a failure)."""
        return self.status != FAILED

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready dict."""
        return {
            "provider": self.provider,
            "status": self.status.value,
            "discovered": self.discovered,
            "valid": self.valid,
            "invalid": self.invalid,
            "inconclusive": self.inconclusive,
            "source": self.source.value if self.source is not None else None,
            "error": self.error,
            "problem": self.problem,
            "seconds": round(self.seconds, 3),
        }


@dataclass
class DiscoveryReport:
    """Every targeted provider's summary, whether the run succeeded and whether it was saved."""

    providers: list[ProviderSummary] = field(default_factory=list)
    ok: bool = True
    persisted: bool = False
    error: str | None = None
    seconds: float = 0.0
    # The run changed some provider's curated lists in memory (saved only when ``persisted``).
    lists_changed: bool = False

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready dict."""
        return {
            "ok": self.ok,
            "persisted": self.persisted,
            "error": self.error,
            "seconds": round(self.seconds, 3),
            "providers": [summary.as_dict() for summary in self.providers],
        }
