"""The click parameter types every command uses: one grammar for the values users type.

- spans of time (:data:`SPAN`, :data:`PERIOD`, :data:`TTL`, :data:`RETENTION_DAYS`): ``90s``,
  ``15m``, ``2h``, ``7d``, ``1w``, and a bare number is seconds, everywhere
  (:func:`provider_store.rules.parse_span`), never longer than
  :data:`~provider_store.rules.MAX_SPAN_SECONDS`;
- :data:`DEADLINE`: a span above 0 and at most a day, never NaN or infinite;
- :data:`SINCE`: a span ago, or an ISO 8601 time;
- :func:`count`: a whole number up to what every database column holds;
- :data:`PRICE` (finite, at least 0) and :data:`FRACTION` (from 0 to below 1, never NaN);
- :data:`CAPABILITY`: one of :data:`~provider_store.model_info.CAPABILITY_NAMES`;
- :data:`EVENT_TYPES`: a comma-separated list of change event types.

A bad value is a click ``BadParameter``: one line naming the option, exit 2.
"""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime
from typing import Any

import click

from provider_store.cli.text import span_text
from provider_store.errors import InvalidDocumentError
from provider_store.model_info import CAPABILITY_NAMES
from provider_store.rules import (
    MAX_CACHE_TTL,
    MAX_DEADLINE_SECONDS,
    MAX_INTEGER,
    MAX_SPAN_SECONDS,
    SPAN_EXAMPLES,
    parse_span,
    span_seconds,
)
from provider_store.rules.limits import DAY_SECONDS
from provider_store.suggestions import nearest

__all__ = [
    "CAPABILITY",
    "DEADLINE",
    "EVENT_TYPES",
    "FRACTION",
    "PERIOD",
    "PRICE",
    "RETENTION_DAYS",
    "SINCE",
    "SPAN",
    "TTL",
    "Span",
    "count",
]


class Span(click.ParamType[Any]):
    """A span of time (see :data:`~provider_store.rules.SPAN_EXAMPLES`) as seconds.

    ``minimum`` (excluded when ``min_open``) and ``maximum`` bound it; ``granule`` > 0 makes it
    a whole number of granules (``1``: whole seconds, ``86400``: whole days), given as an int.
    """

    name = "span"

    def __init__(
        self,
        *,
        minimum: float = 0.0,
        min_open: bool = False,
        maximum: float = MAX_SPAN_SECONDS,
        granule: float | None = None,
        granule_name: str = "seconds",
    ) -> None:
        self.minimum = minimum
        self.min_open = min_open
        self.maximum = maximum
        self.granule = granule
        self.granule_name = granule_name

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        """``SPAN`` in usage lines."""
        return "SPAN"

    def seconds(self, text: str) -> float:
        """The span ``text`` in seconds (grammar and maximum only); ValueError otherwise."""
        try:
            return parse_span(text, maximum=self.maximum)
        except InvalidDocumentError as exc:
            raise ValueError(exc.reason) from None

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        """Seconds (float), or a whole number of granules (int) when ``granule`` is set."""
        if isinstance(value, int | float) and not isinstance(value, bool):
            return value  # a default, already in seconds (or granules)
        text = str(value)
        try:
            seconds = self.seconds(text)
        except ValueError as exc:
            self.fail(f"{exc}{self._expected()}.", param, ctx)
        too_short = seconds <= self.minimum if self.min_open else seconds < self.minimum
        if too_short:
            relation = "more than" if self.min_open else "at least"
            shortest = span_text(self.minimum)
            self.fail(
                f"{text!r} is too short: it must be {relation} {shortest}{self._expected()}.",
                param,
                ctx,
            )
        if self.granule is None:
            return seconds
        whole, rest = divmod(seconds, self.granule)
        if rest:
            self.fail(f"{text!r} is not a whole number of {self.granule_name}.", param, ctx)
        return int(whole)

    def _expected(self) -> str:
        """What a span of whole granules must be, for a refusal (empty for whole seconds)."""
        if self.granule is None or self.granule == 1:
            return ""
        return f"; give a whole number of {self.granule_name} ({span_text(self.granule)} or more)"


# A span from 0: a minimum age, how long something lasts.
SPAN = Span()
# How often something repeats: above 0.
PERIOD = Span(minimum=0.0, min_open=True)
# A cache TTL: whole seconds from 0 (always ask) to the integer column's maximum.
TTL = Span(maximum=float(MAX_CACHE_TTL), granule=1.0)
# How long history is kept: whole days, at least one.
RETENTION_DAYS = Span(minimum=DAY_SECONDS, granule=DAY_SECONDS, granule_name="days")
# How long a run or a refresh may take: above 0, at most a day.
DEADLINE = Span(minimum=0.0, min_open=True, maximum=MAX_DEADLINE_SECONDS)


class Since(click.ParamType[float]):
    """An instant: a span ago (``7d``, ``12h``, ``90``) or an ISO 8601 time (UTC when it names
    no zone), as UTC epoch seconds."""

    name = "since"

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        """``SPAN|TIME`` in usage lines."""
        return "SPAN|TIME"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        """UTC epoch seconds."""
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        text = str(value).strip()
        if span_seconds(text) is not None:
            try:
                seconds = SPAN.seconds(text)
            except ValueError as exc:
                self.fail(str(exc), param, ctx)
            return time.time() - seconds
        try:
            when = datetime.fromisoformat(text)
        except ValueError:
            self.fail(
                f"{text!r} is neither a span ({SPAN_EXAMPLES}) nor an ISO 8601 time"
                " (2026-01-31T12:00Z)",
                param,
                ctx,
            )
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return when.timestamp()


SINCE = Since()


def count(minimum: int = 1, maximum: int = MAX_INTEGER) -> click.IntRange:
    """A whole number from ``minimum`` to ``maximum`` (at most what every database holds)."""
    return click.IntRange(min=minimum, max=min(maximum, MAX_INTEGER))


class FiniteFloat(click.ParamType[float]):
    """A finite number from ``minimum`` (included) to ``maximum`` (excluded when
    ``max_open``); NaN and the infinities are refused."""

    name = "number"

    def __init__(
        self, *, minimum: float = 0.0, maximum: float | None = None, max_open: bool = False
    ) -> None:
        self.minimum = minimum
        self.maximum = maximum
        self.max_open = max_open

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        """The number, as a float."""
        if isinstance(value, float):
            return value
        text = str(value).strip()
        try:
            number = float(text)
        except ValueError:
            self.fail(f"{text!r} is not a number.", param, ctx)
        if not math.isfinite(number):
            self.fail(f"{text!r} is not a finite number.", param, ctx)
        if number < self.minimum or (
            self.maximum is not None
            and (number >= self.maximum if self.max_open else number > self.maximum)
        ):
            upper = (
                ""
                if self.maximum is None
                else f" and {'below' if self.max_open else 'at most'} {self.maximum:g}"
            )
            self.fail(f"{text} is not at least {self.minimum:g}{upper}.", param, ctx)
        return number


# A price in USD per million tokens.
PRICE = FiniteFloat(minimum=0.0)
# A share of something: from 0 up to, not including, 1.
FRACTION = FiniteFloat(minimum=0.0, maximum=1.0, max_open=True)


class Capability(click.ParamType[str]):
    """One capability name the catalog knows (any case), lower-cased."""

    name = "capability"

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        """``NAME`` in usage lines."""
        return "NAME"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        """The canonical name; a one-line refusal names the known ones otherwise."""
        name = str(value).strip().lower()
        if name in CAPABILITY_NAMES:
            return name
        near = nearest(name, CAPABILITY_NAMES, limit=1)
        hint = f" (did you mean {near[0]}?)" if near else ""
        self.fail(
            f"unknown capability {str(value)!r}{hint}; known: {', '.join(CAPABILITY_NAMES)}.",
            param,
            ctx,
        )

    def shell_complete(
        self, ctx: click.Context, param: click.Parameter, incomplete: str
    ) -> list[click.shell_completion.CompletionItem]:
        """The known names that start with what was typed."""
        from click.shell_completion import CompletionItem

        return [CompletionItem(n) for n in CAPABILITY_NAMES if n.startswith(incomplete.lower())]


CAPABILITY = Capability()


class EventTypes(click.ParamType[Any]):
    """A comma-separated list of change event types (``added,removed``)."""

    name = "types"

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        """``T1,T2`` in usage lines."""
        return "T1,T2"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        """The list of :class:`~provider_store.catalog.states.EventType` (None when empty)."""
        from provider_store import EventType

        if isinstance(value, list):
            return value
        types: list[EventType] = []
        for name in (part.strip().lower() for part in str(value).split(",")):
            if not name:
                continue
            try:
                types.append(EventType(name))
            except ValueError:
                known = ", ".join(t.value for t in EventType)
                self.fail(f"unknown event type {name!r} (one of {known}).", param, ctx)
        return types or None


EVENT_TYPES = EventTypes()
