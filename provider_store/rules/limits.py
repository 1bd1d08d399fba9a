"""Numbers with one meaning across the package: defaults, limits, ranges, exit codes.

Every value the catalog stores has one set of limits (length, range, finiteness, characters),
defined here and checked at every door: the YAML importer, the library setters the CLI verbs
call, the readers of provider lists and registries. The checks run before either database sees
the value, so SQLite and PostgreSQL accept and refuse the same things, and whatever the catalog
accepts, its own export imports back. Each ``check_*`` function returns the value (normalised)
or raises :class:`~provider_store.errors.InvalidDocumentError` naming ``field``; each
``*_problem`` function says why a value is refused, or None.
"""

from __future__ import annotations

import math
import re

from provider_store.errors import InvalidDocumentError

__all__ = [
    "DAY_SECONDS",
    "DEFAULT_CACHE_TTL",
    "DEFAULT_CHECK_INTERVAL",
    "DEFAULT_CHANGES_LIMIT",
    "DEFAULT_CONCURRENCY",
    "DEFAULT_DEADLINE",
    "DEFAULT_MAX_MODELS",
    "DEFAULT_MAX_OVERFLOW",
    "DEFAULT_MAX_PAGES",
    "DEFAULT_PAGE_LIMIT",
    "DEFAULT_PER_PROVIDER",
    "DEFAULT_POOL_SIZE",
    "DEFAULT_POOL_TIMEOUT",
    "DEFAULT_REGISTRY_DEADLINE",
    "DEFAULT_REMOVAL_CONFIRMATIONS",
    "DEFAULT_REMOVAL_MIN_AGE_SECONDS",
    "DEFAULT_RETENTION_DAYS",
    "DEFAULT_REVALIDATE_AFTER",
    "DEFAULT_STALE_WHILE_REVALIDATE_TTLS",
    "ENV_URL",
    "EXIT_BAD_INPUT",
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "MAX_API_KEY_LENGTH",
    "MAX_BASE_URL_LENGTH",
    "MAX_CACHE_TTL",
    "MAX_DEADLINE_SECONDS",
    "MAX_EPOCH",
    "MAX_FILE_BYTES",
    "MAX_INTEGER",
    "MAX_MESSAGE_LENGTH",
    "MAX_NAMES",
    "MAX_NAME_LENGTH",
    "MAX_NESTING_DEPTH",
    "MAX_OPTIONS_LENGTH",
    "MAX_PRICE",
    "MAX_PROVIDER_KEY_LENGTH",
    "MAX_REASON_LENGTH",
    "MAX_RETENTION_DAYS",
    "MAX_SPAN_SECONDS",
    "MAX_TEXT_LENGTH",
    "MAX_TOKENS",
    "FILE_WATCH_INTERVAL",
    "MIN_EPOCH",
    "READ_AHEAD_PATIENCE",
    "UNSTORABLE",
    "UNSTORABLE_REASON",
    "check_cache_ttl",
    "check_epoch",
    "check_fraction",
    "check_number",
    "check_seconds",
    "check_text",
    "check_whole_number",
    "nesting_problem",
    "number_problem",
    "text_problem",
    "check_deadline",
]

# Seconds in a day: the unit of retention, of the ``d`` span and of the daily ping rollup.
DAY_SECONDS = 86_400.0

# How long a provider's discovered model list stays fresh, in seconds (the legacy 5 minutes).
DEFAULT_CACHE_TTL = 300
# A ProviderManager over a store looks at the catalog's change tokens at most this often (seconds).
DEFAULT_CHECK_INTERVAL = 0.25
# Seconds a follower goes on answering from the configs it has while the listening thread reads
# what a notification announced; past that it reads the change itself.
READ_AHEAD_PATIENCE = 1.0
# Seconds between two questions to a SQLite catalog file whether anything was committed, by the
# thread that watches it for followers (PRAGMA data_version: a few microseconds, no read).
FILE_WATCH_INTERVAL = 0.1
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
MAX_DEADLINE_SECONDS = DAY_SECONDS
# A discovery run: at most this many pings at once, this many per provider, and this long in all.
DEFAULT_CONCURRENCY = 32
DEFAULT_PER_PROVIDER = 4
DEFAULT_DEADLINE = 300.0
# How long reading one registry (a models.dev file, a LiteLLM cost map file or URL) may take.
DEFAULT_REGISTRY_DEADLINE = 60.0
# How old a stored verdict may be before discovery pings the model again (a day).
DEFAULT_REVALIDATE_AFTER = DAY_SECONDS
# A listed model missing from this many complete listings in a row, and for at least this long,
# is removed (a provider's removal policy, unless it sets its own).
DEFAULT_REMOVAL_CONFIRMATIONS = 2
DEFAULT_REMOVAL_MIN_AGE_SECONDS = 3600.0
# How long change events and ping observations are kept, in days; the longest retention is the
# longest span of time anything takes, in whole days (about 68 years).
DEFAULT_RETENTION_DAYS = 90
MAX_RETENTION_DAYS = int(MAX_SPAN_SECONDS // DAY_SECONDS)
# The connection pool of one store: connections kept, extra ones allowed, and how long a caller
# waits for one (seconds). On PostgreSQL, 3 pooled connections and the change listener's make 4
# per process.
DEFAULT_POOL_SIZE = 3
DEFAULT_MAX_OVERFLOW = 0
DEFAULT_POOL_TIMEOUT = 30.0
# A paged model list: at most this many pages, asking for this many items per page.
DEFAULT_MAX_PAGES = 500
DEFAULT_PAGE_LIMIT = 1000
# Stale-while-revalidate (RFC 5861): for a window past its TTL, a read of a provider's list
# answers at once from the stale list while one background refresh runs. The window is a call's
# argument, else the provider option ``stale_while_revalidate`` (seconds; 0 turns it off), else
# this multiple of the provider's TTL: a list is served stale for as long again as it was fresh.
DEFAULT_STALE_WHILE_REVALIDATE_TTLS = 1.0

# The most change events one read of the change feed returns unless the caller says otherwise.
DEFAULT_CHANGES_LIMIT = 1000
# Providers the keeper refreshes at the same time (``refresh --concurrency``), and the most.
DEFAULT_KEEPER_AT_ONCE = 8
MAX_KEEPER_AT_ONCE = 64

# The longest text a catalog column of names holds: a provider's display name, a model id, an
# alias, a listed display name. Longer listed ids are skipped; longer listed names are cut.
MAX_TEXT_LENGTH = 500
MAX_PROVIDER_KEY_LENGTH = 200
MAX_BASE_URL_LENGTH = 2000
MAX_API_KEY_LENGTH = 4000
# The longest stored message: a discovery error, a verdict's reason, a provider problem.
MAX_MESSAGE_LENGTH = 2000
# The longest reason a user gives for marking a model by hand.
MAX_REASON_LENGTH = MAX_TEXT_LENGTH
# A provider's connection options: at most this many characters as JSON, nested at most
# MAX_NESTING_DEPTH levels (the YAML document's own nesting limit).
MAX_OPTIONS_LENGTH = 65_536
MAX_NESTING_DEPTH = 100

# Model metadata: token counts fit an INTEGER column; prices are USD per million tokens (a
# million dollars per million tokens is far above any real price, and far below overflow when
# converted per token and back); times are UTC epoch seconds of the years 1 to 9999 (what a
# date can show); capability and modality names are short words, a few dozen of them.
MAX_TOKENS = MAX_INTEGER
MAX_PRICE = 1_000_000.0
MIN_EPOCH = -62_135_596_800  # 0001-01-01T00:00:00Z
MAX_EPOCH = 253_402_300_799  # 9999-12-31T23:59:59Z
MAX_NAME_LENGTH = 64
MAX_NAMES = 100

# Characters no database text column accepts (PostgreSQL refuses NUL; UTF-8 has no lone
# surrogates): refused in every stored text.
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
UNSTORABLE_REASON = "contains a NUL or lone surrogate character, which cannot be stored"

# Exit codes of the command line.
EXIT_OK = 0
EXIT_FAILED = 1  # the operation failed (network, database, a provider)
EXIT_BAD_INPUT = 2  # the user's input was at fault
EXIT_INTERRUPTED = 130  # Ctrl-C (128 + SIGINT)


# -- text -----------------------------------------------------------------------------------------


def text_problem(value: object, *, limit: int = MAX_TEXT_LENGTH, empty: bool = True) -> str | None:
    """Why ``value`` cannot be stored as a text of at most ``limit`` characters, or None.

    A text is a string without NUL or lone surrogates; ``empty=False`` also refuses an empty
    or blank one.
    """
    if not isinstance(value, str):
        return f"must be a string, not {type(value).__name__}"
    if len(value) > limit:
        return f"longer than {limit} characters ({len(value):,})"
    if UNSTORABLE.search(value):
        return UNSTORABLE_REASON
    if not empty and not value.strip():
        return "must not be empty"
    return None


def check_text(
    value: object, *, field: str, limit: int = MAX_TEXT_LENGTH, empty: bool = True
) -> str:
    """``value`` when :func:`text_problem` finds nothing; InvalidDocumentError naming ``field``."""
    problem = text_problem(value, limit=limit, empty=empty)
    if problem is not None:
        raise InvalidDocumentError(problem, field=field)
    assert isinstance(value, str)
    return value


# -- numbers --------------------------------------------------------------------------------------


def number_problem(
    value: object, *, low: float, high: float, whole: bool = False, low_open: bool = False
) -> str | None:
    """Why ``value`` is not a finite number from ``low`` to ``high`` (above ``low`` when
    ``low_open``; a whole number when ``whole``), or None. Booleans are not numbers."""
    kind = "a whole number" if whole else "a number"
    lower = f"above {_num(low)}" if low_open else f"from {_num(low)}"
    expected = f"{kind} {lower} to {_num(high)}"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return f"must be {expected}, not {type(value).__name__}"
    if isinstance(value, float) and not math.isfinite(value):
        return f"must be {expected}, not {value}"
    if whole and not isinstance(value, int):
        return f"must be {expected}, not {value}"
    too_low = value <= low if low_open else value < low
    if too_low or value > high:
        return f"must be {expected}, not {_num(value)}"
    return None


def _shown(value: object) -> str:
    return (
        _num(value)
        if isinstance(value, int | float) and not isinstance(value, bool)
        else repr(value)
    )


def _num(value: float) -> str:
    if isinstance(value, int) and abs(value) >= 10**16:
        return f"{float(value):g}"
    return f"{value:g}" if isinstance(value, float) else str(value)


def check_whole_number(value: object, *, field: str, low: int = 0, high: int = MAX_INTEGER) -> int:
    """``value`` as a whole number from ``low`` to ``high``; InvalidDocumentError otherwise."""
    problem = number_problem(value, low=low, high=high, whole=True)
    if problem is not None:
        raise InvalidDocumentError(problem, field=field)
    assert isinstance(value, int)
    return value


def check_number(
    value: object, *, field: str, low: float, high: float, low_open: bool = False
) -> float:
    """``value`` as a finite float in range; InvalidDocumentError naming ``field`` otherwise."""
    problem = number_problem(value, low=low, high=high, low_open=low_open)
    if problem is not None:
        raise InvalidDocumentError(problem, field=field)
    assert isinstance(value, int | float)
    return float(value)


def check_seconds(value: object, *, field: str, high: float = MAX_SPAN_SECONDS) -> float:
    """A span of time in seconds, from 0 to ``high`` (default :data:`MAX_SPAN_SECONDS`)."""
    return check_number(value, field=field, low=0, high=high)


def check_epoch(value: object, *, field: str) -> float:
    """A point in time as UTC epoch seconds, from :data:`MIN_EPOCH` to :data:`MAX_EPOCH`."""
    if number_problem(value, low=MIN_EPOCH, high=MAX_EPOCH) is not None:
        raise InvalidDocumentError(
            f"must be a time in the years 1 to 9999 (UTC epoch seconds), not {_shown(value)}",
            field=field,
        )
    assert isinstance(value, int | float)
    return float(value)


def check_fraction(value: object, *, field: str) -> float:
    """A fraction in [0, 1): a finite number from 0, below 1."""
    if number_problem(value, low=0, high=1) is not None or value == 1:
        raise InvalidDocumentError(
            f"must be a fraction from 0 up to (not including) 1, not {_shown(value)}", field=field
        )
    assert isinstance(value, int | float)
    return float(value)


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


# -- nested data ----------------------------------------------------------------------------------


def nesting_problem(value: object, *, limit: int = MAX_NESTING_DEPTH) -> str | None:
    """Why ``value`` (lists and mappings) is nested too deep, or None; walks without recursion,
    so any depth is measured safely."""
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list | tuple):
            if depth > limit:
                return f"nested more than {limit} levels deep"
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return None


def check_deadline(seconds: object, *, field: str = "deadline") -> float:
    """``seconds`` as a deadline: a finite number above 0 and at most
    :data:`MAX_DEADLINE_SECONDS`. InvalidDocumentError naming ``field`` otherwise (NaN and the
    infinities included)."""
    if isinstance(seconds, bool) or not isinstance(seconds, int | float):
        raise InvalidDocumentError(f"must be a number of seconds, not {seconds!r}", field=field)
    if not math.isfinite(seconds) or not 0 < seconds <= MAX_DEADLINE_SECONDS:
        raise InvalidDocumentError(
            f"must be more than 0 and at most {MAX_DEADLINE_SECONDS:g} seconds, not {seconds!r}",
            field=field,
        )
    return float(seconds)


# -- where the catalog is, what the importer reads ------------------------------------------------

# The environment variable that names the catalog when no URL is given (``--db``).
ENV_URL = "PROVIDER_STORE_URL"
# The largest YAML document the importer reads (a file or standard input).
MAX_FILE_BYTES = 50 * 1024 * 1024
