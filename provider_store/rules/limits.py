"""Numbers with one meaning across the package: defaults, length limits, ranges, exit codes."""

from __future__ import annotations

import math

from provider_store.errors import ConfigurationError, InvalidDocumentError

__all__ = [
    "DEFAULT_CACHE_TTL",
    "DEFAULT_CHANGES_LIMIT",
    "DEFAULT_MAX_MODELS",
    "DEFAULT_STALE_WHILE_REVALIDATE_TTLS",
    "EXIT_BAD_INPUT",
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "MAX_API_KEY_LENGTH",
    "MAX_BASE_URL_LENGTH",
    "MAX_CACHE_TTL",
    "MAX_DEADLINE_SECONDS",
    "MAX_INTEGER",
    "MAX_MESSAGE_LENGTH",
    "MAX_PROVIDER_KEY_LENGTH",
    "MAX_SPAN_SECONDS",
    "MAX_TEXT_LENGTH",
    "check_cache_ttl",
    "check_deadline",
]

# How long a provider's discovered model list stays fresh, in seconds (the legacy 5 minutes).
DEFAULT_CACHE_TTL = 300
# The most models one provider may hold, from discovery (a longer list fails) or from a legacy
# YAML import (refused); the provider option ``max_models`` and ``import --max-models`` raise it.
DEFAULT_MAX_MODELS = 20_000
# The largest whole number a catalog integer column holds on every backend (PostgreSQL
# INTEGER; SQLite would take more, but both must agree): every count a user sets is at most this.
MAX_INTEGER = 2**31 - 1
# The longest cache TTL, about 68 years.
MAX_CACHE_TTL = MAX_INTEGER
# The longest span of time any option or setting takes (a TTL, a period, a minimum age, a
# retention, how far back to look): it fits the integer columns, and now minus it is a time
# every database and clock holds.
MAX_SPAN_SECONDS = float(MAX_INTEGER)
# The longest deadline of a discovery run or of one refresh (a day): longer ones overflow the
# clocks and timeouts they become.
MAX_DEADLINE_SECONDS = 86_400.0
# Stale-while-revalidate (RFC 5861): for a window past its TTL, a read of a provider's list
# answers at once from the stale list while one background refresh runs. The window is a call's
# argument, else the provider option ``stale_while_revalidate`` (seconds; 0 turns it off), else
# this multiple of the provider's TTL: a list is served stale for as long again as it was fresh.
DEFAULT_STALE_WHILE_REVALIDATE_TTLS = 1.0

# The most change events one read of the change feed returns unless the caller says otherwise.
DEFAULT_CHANGES_LIMIT = 1000

# The longest text a catalog column of names holds: a provider's display name, a model id, an
# alias, a listed display name. Longer listed ids are skipped; longer listed names are cut.
MAX_TEXT_LENGTH = 500
MAX_PROVIDER_KEY_LENGTH = 200
MAX_BASE_URL_LENGTH = 2000
MAX_API_KEY_LENGTH = 4000
# The longest stored message: a discovery error, a verdict's reason, a provider problem.
MAX_MESSAGE_LENGTH = 2000

# Exit codes of the command line.
EXIT_OK = 0
EXIT_FAILED = 1  # the operation failed (network, database, a provider)
EXIT_BAD_INPUT = 2  # the user's input was at fault
EXIT_INTERRUPTED = 130  # Ctrl-C (128 + SIGINT)


def check_cache_ttl(seconds: object, *, field: str = "cache_ttl_seconds") -> int:
    """``seconds`` as a cache TTL: a whole number from 0 to :data:`MAX_CACHE_TTL`.

    Raises InvalidDocumentError naming ``field`` otherwise, before anything is written.
    """
    if isinstance(seconds, bool) or not isinstance(seconds, int):
        raise InvalidDocumentError(
            f"must be a whole number of seconds, not {type(seconds).__name__}", field=field
        )
    if not 0 <= seconds <= MAX_CACHE_TTL:
        raise InvalidDocumentError(
            f"must be from 0 to {MAX_CACHE_TTL} seconds (about 68 years), not {seconds}",
            field=field,
        )
    return seconds


def check_deadline(seconds: object, *, field: str = "deadline") -> float:
    """``seconds`` as a deadline: a finite number above 0 and at most
    :data:`MAX_DEADLINE_SECONDS`. ConfigurationError naming ``field`` otherwise (NaN and the
    infinities included)."""
    if isinstance(seconds, bool) or not isinstance(seconds, int | float):
        raise ConfigurationError(f"{field} must be a number of seconds, not {seconds!r}")
    if not math.isfinite(seconds) or not 0 < seconds <= MAX_DEADLINE_SECONDS:
        raise ConfigurationError(
            f"{field} must be more than 0 and at most {MAX_DEADLINE_SECONDS:g} seconds,"
            f" not {seconds!r}"
        )
    return float(seconds)
