"""The rules every wing shares, each defined once: import them from here.

Lives here:

- :mod:`~provider_store.rules.limits`: the cache TTL default and range (:func:`check_cache_ttl`),
  the length limits of names, ids, keys and URLs, the CLI's exit codes.
- :mod:`~provider_store.rules.api_keys`: the placeholder-key rule (:func:`is_placeholder_key`),
  the key actually sent (:func:`effective_api_key`) and the environment variables that supply it.
- :mod:`~provider_store.rules.provider_settings`: the one checker of a provider's settings:
  its key, ``kind`` (:data:`PROVIDER_KINDS`), ``options`` and base API URL
  (:func:`check_provider_settings`).
- :mod:`~provider_store.rules.spans`: spans of time written by people (``90s``, ``7d``, ``2w``,
  ``90`` for seconds: :func:`parse_span`), for every option and setting that takes one.
- :mod:`~provider_store.rules.times`: how a time is written for scripts (:func:`iso_utc`).
- :mod:`~provider_store.rules.call_input`: values given to library calls: a refused setting of a
  provider edit names the provider and setting, a history read's ``since`` is bounded.

May import: only :mod:`provider_store.errors` and the standard library, so every other wing
(and the leaf modules) can import it.
"""

from provider_store.rules.api_keys import (
    NO_KEY_OPTION,
    NOT_CONFIGURED_SUFFIX,
    effective_api_key,
    env_var_for,
    env_var_in_use,
    env_var_names,
    is_keyless,
    is_placeholder_key,
)
from provider_store.rules.limits import (
    DEFAULT_CACHE_TTL,
    DEFAULT_CHANGES_LIMIT,
    DEFAULT_MAX_MODELS,
    DEFAULT_STALE_WHILE_REVALIDATE_TTLS,
    EXIT_BAD_INPUT,
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    MAX_API_KEY_LENGTH,
    MAX_BASE_URL_LENGTH,
    MAX_CACHE_TTL,
    MAX_DEADLINE_SECONDS,
    MAX_INTEGER,
    MAX_MESSAGE_LENGTH,
    MAX_PROVIDER_KEY_LENGTH,
    MAX_SPAN_SECONDS,
    MAX_TEXT_LENGTH,
    check_cache_ttl,
    check_deadline,
)
from provider_store.rules.provider_settings import (
    DEFAULT_KIND,
    FORBIDDEN_HEADERS,
    OPTION_NAMES,
    PROVIDER_KEY_RULE,
    PROVIDER_KINDS,
    base_url_problem,
    check_kind,
    check_options,
    check_provider_key,
    check_provider_settings,
    header_name_problem,
    provider_key_problem,
)
from provider_store.rules.spans import SPAN_EXAMPLES, SPAN_UNITS, parse_span, span_seconds
from provider_store.rules.times import iso_utc

__all__ = [
    "DEFAULT_CACHE_TTL",
    "DEFAULT_CHANGES_LIMIT",
    "DEFAULT_MAX_MODELS",
    "DEFAULT_KIND",
    "DEFAULT_STALE_WHILE_REVALIDATE_TTLS",
    "EXIT_BAD_INPUT",
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "FORBIDDEN_HEADERS",
    "MAX_API_KEY_LENGTH",
    "MAX_BASE_URL_LENGTH",
    "MAX_CACHE_TTL",
    "MAX_DEADLINE_SECONDS",
    "MAX_INTEGER",
    "MAX_MESSAGE_LENGTH",
    "MAX_PROVIDER_KEY_LENGTH",
    "MAX_SPAN_SECONDS",
    "MAX_TEXT_LENGTH",
    "NOT_CONFIGURED_SUFFIX",
    "NO_KEY_OPTION",
    "OPTION_NAMES",
    "SPAN_EXAMPLES",
    "SPAN_UNITS",
    "PROVIDER_KEY_RULE",
    "PROVIDER_KINDS",
    "base_url_problem",
    "check_cache_ttl",
    "check_deadline",
    "check_kind",
    "check_options",
    "check_provider_key",
    "check_provider_settings",
    "effective_api_key",
    "env_var_for",
    "env_var_in_use",
    "env_var_names",
    "header_name_problem",
    "is_keyless",
    "is_placeholder_key",
    "iso_utc",
    "provider_key_problem",
    "parse_span",
    "span_seconds",
]
