"""The one checker of a provider's settings: its key, ``kind``, ``options`` and base API URL.

The YAML importer, :meth:`CatalogStore.save_config`, every CLI path and discovery (for rows
written before a rule existed) call these functions; each refusal is an InvalidDocumentError
(OptionsError for ``kind`` and ``options``) whose ``field`` names the setting at fault, relative
to the provider (``kind``, ``options.auth_headr``, ``base_api_url``). Callers that know the file
and line add them.

Connection options (the provider's ``options`` mapping, all optional):

``auth_header``      the header that carries the key (default: the kind's own, ``Authorization``
                     for ``openai``); e.g. ``api-key`` for Azure OpenAI. Framing, hop-by-hop and
                     cookie headers (``Host``, ``Content-Length``, ``Connection``, ``Proxy-*`` …)
                     are refused.
``auth_scheme``      the word before the key in that header (default ``Bearer`` for
                     ``Authorization``, none for any other header)
``headers``          extra, non-secret request headers, e.g. ``{"anthropic-version": "2023-06-01"}``
                     (the same header names are refused as for ``auth_header``)
``query``            query parameters added to every request, e.g. ``{"api-version": "2024-10-21"}``
``max_models``       the most models one list may hold (default 20,000); a longer list fails
``max_pages``        the most pages one list may take (default 500)
``page_limit``       the page size asked for when paging (default 1000)
``allow_link_local`` ``true`` lets ``base_api_url`` point at a link-local or cloud metadata
                     address (refused by default: the key would be sent there)
``no_key``           ``true`` for a keyless server (Ollama, llama.cpp, LM Studio, vLLM): no key
                     header is sent and the provider is never skipped for a missing key
``stale_while_revalidate`` seconds past the cache TTL in which a read answers at once from the
                     stale list while one background refresh runs (RFC 5861; default: the
                     provider's TTL, see ``DEFAULT_STALE_WHILE_REVALIDATE_TTLS``; 0 turns it off)
"""

from __future__ import annotations

import difflib
import ipaddress
import json
import re
import socket
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from provider_store.errors import InvalidDocumentError, OptionsError, with_suggestions
from provider_store.rules.limits import (
    MAX_BASE_URL_LENGTH,
    MAX_CACHE_TTL,
    MAX_INTEGER,
    MAX_NESTING_DEPTH,
    MAX_OPTIONS_LENGTH,
    MAX_PROVIDER_KEY_LENGTH,
    UNSTORABLE,
    UNSTORABLE_REASON,
    nesting_problem,
)

__all__ = [
    "DEFAULT_KIND",
    "FORBIDDEN_HEADERS",
    "OPTION_NAMES",
    "PROVIDER_KEY_RULE",
    "PROVIDER_KINDS",
    "base_url_problem",
    "check_kind",
    "check_options",
    "check_provider_key",
    "check_provider_settings",
    "header_name_problem",
    "provider_key_problem",
]

# The API dialects a provider can speak; "openai" covers every OpenAI-compatible service.
PROVIDER_KINDS = ("openai", "anthropic", "gemini")
DEFAULT_KIND = "openai"

OPTION_NAMES = (
    "auth_header",
    "auth_scheme",
    "headers",
    "query",
    "max_models",
    "max_pages",
    "page_limit",
    "allow_link_local",
    "no_key",
    "stale_while_revalidate",
)
# Header names the key (or an extra header) may not take: they frame the message, belong to one
# hop, or carry another party's credentials.
FORBIDDEN_HEADERS = frozenset(
    {
        "host",
        "content-length",
        "transfer-encoding",
        "connection",
        "keep-alive",
        "upgrade",
        "te",
        "trailer",
        "cookie",
    }
)
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")

PROVIDER_KEY_RULE = (
    "letters, digits, '.', '_' and '-', starting with a letter or digit, without '..', "
    f"at most {MAX_PROVIDER_KEY_LENGTH} characters, unique regardless of case"
)
_PROVIDER_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")

_EXAMPLE_URL = "(e.g. https://api.example.com/v1)"
_LINK_LOCAL_V4 = ipaddress.ip_network("169.254.0.0/16")
_LINK_LOCAL_V6 = ipaddress.ip_network("fe80::/10")
_METADATA_ADDRESSES = frozenset({ipaddress.ip_address("fd00:ec2::254")})
_METADATA_HOSTS = frozenset({"metadata.google.internal", "metadata.goog"})


# -- provider keys --------------------------------------------------------------------------------


def provider_key_problem(key: object) -> str | None:
    """Why ``key`` cannot name a provider, or None when it can (rule: :data:`PROVIDER_KEY_RULE`).

    A key becomes part of ``provider/model`` strings, of an environment variable name and of
    file and log lines, so ``/``, ``..``, spaces and control characters are refused.
    """
    if not isinstance(key, str):
        return f"a provider key must be a string ({PROVIDER_KEY_RULE})"
    shown = repr(key if len(key) <= 60 else key[:57] + "...")
    if len(key) > MAX_PROVIDER_KEY_LENGTH or not _PROVIDER_KEY.fullmatch(key) or ".." in key:
        return f"provider key {shown} cannot be used: use {PROVIDER_KEY_RULE}"
    return None


def check_provider_key(key: object, *, field: str = "providers") -> str:
    """``key`` when it can name a provider; InvalidDocumentError stating the rule otherwise."""
    problem = provider_key_problem(key)
    if problem is not None:
        raise InvalidDocumentError(problem, field=field)
    assert isinstance(key, str)
    return key


# -- kind -----------------------------------------------------------------------------------------


def check_kind(kind: object, *, field: str = "kind") -> str:
    """``kind`` when it is one of :data:`PROVIDER_KINDS` (None: the default, ``openai``);
    OptionsError naming ``field`` otherwise."""
    if kind is None:
        return DEFAULT_KIND
    if isinstance(kind, str) and kind in PROVIDER_KINDS:
        return kind
    known = ", ".join(PROVIDER_KINDS)
    if not isinstance(kind, str):
        raise OptionsError(f"kind must be a string, one of {known}", field=field)
    message = f"unknown provider kind {kind!r} (kind must be one of {known})"
    raise OptionsError(with_suggestions(message, _nearest(kind, PROVIDER_KINDS)), field=field)


# -- options --------------------------------------------------------------------------------------


def check_options(options: object, *, field: str = "options") -> dict[str, Any] | None:
    """A checked, JSON-clean copy of a provider's ``options`` (None when there are none).

    OptionsError names the first bad option as ``field.option`` and, for an unknown option,
    the nearest known name.
    """
    if options is None:
        return None
    if not isinstance(options, Mapping):
        raise OptionsError("provider options must be a mapping of option to value", field=field)
    # Measured before anything walks the options recursively (a deep nesting would overflow
    # the stack); the options sit two levels down in the YAML document, which has the same limit.
    deep = nesting_problem(dict(options), limit=MAX_NESTING_DEPTH - 2)
    if deep is not None:
        raise OptionsError(f"provider options are {deep}", field=field)
    for name in options:
        if not isinstance(name, str):
            raise OptionsError("provider options must be a mapping with string keys", field=field)
        if name not in OPTION_NAMES:
            message = f"unknown provider option {name!r}"
            hint = with_suggestions(message, _nearest(name, OPTION_NAMES))
            raise OptionsError(
                f"{hint} (known: {', '.join(sorted(OPTION_NAMES))})", field=f"{field}.{name}"
            )
    try:
        clean: dict[str, Any] = json.loads(json.dumps(dict(options), allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise OptionsError(
            "options must be JSON data (strings, numbers, lists, mappings)", field=field
        ) from exc
    unstorable = _unstorable_text(clean, field)
    if unstorable is not None:
        raise OptionsError(f"provider option text {UNSTORABLE_REASON}", field=unstorable)
    size = len(json.dumps(clean, ensure_ascii=False))
    if size > MAX_OPTIONS_LENGTH:
        raise OptionsError(
            f"provider options are longer than {MAX_OPTIONS_LENGTH:,} characters as JSON"
            f" ({size:,})",
            field=field,
        )
    _check_header_option(options, "auth_header", field)
    scheme = options.get("auth_scheme")
    if scheme is not None and not (
        isinstance(scheme, str) and (scheme == "" or _TOKEN.fullmatch(scheme))
    ):
        raise OptionsError(
            "provider option 'auth_scheme' must be a single word or empty",
            field=f"{field}.auth_scheme",
        )
    _check_string_map(options, "headers", field, header_names=True)
    _check_string_map(options, "query", field, header_names=False)
    for name in ("max_models", "max_pages", "page_limit"):
        value = options.get(name)
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_INTEGER
        ):
            raise OptionsError(
                f"provider option {name!r} must be a whole number from 1 to {MAX_INTEGER}",
                field=f"{field}.{name}",
            )
    window = options.get("stale_while_revalidate")
    if window is not None and (
        isinstance(window, bool)
        or not isinstance(window, int | float)
        or not 0 <= window <= MAX_CACHE_TTL
    ):
        raise OptionsError(
            "provider option 'stale_while_revalidate' must be a number of seconds from 0 to "
            f"{MAX_CACHE_TTL} (0: a read of an expired list waits for the refresh)",
            field=f"{field}.stale_while_revalidate",
        )
    for name in ("allow_link_local", "no_key"):
        flag = options.get(name)
        if flag is not None and not isinstance(flag, bool):
            raise OptionsError(
                f"provider option {name!r} must be true or false", field=f"{field}.{name}"
            )
    return clean


def _unstorable_text(value: object, where: str) -> str | None:
    """The field of the first string (key or value) in ``value`` that holds a NUL or a lone
    surrogate (the catalog and its export cannot hold them), or None."""
    if isinstance(value, str):
        return where if UNSTORABLE.search(value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            if UNSTORABLE.search(key):
                return f"{where}.{key}"
            found = _unstorable_text(item, f"{where}.{key}")
            if found is not None:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = _unstorable_text(item, f"{where}[{index}]")
            if found is not None:
                return found
    return None


def header_name_problem(name: object) -> str | None:
    """Why ``name`` cannot carry the key or an extra header, or None when it can."""
    if not isinstance(name, str) or not _TOKEN.fullmatch(name):
        return "must be a header name"
    lowered = name.lower()
    if lowered in FORBIDDEN_HEADERS or lowered.startswith("proxy-"):
        return (
            f"{name!r} is a framing, hop-by-hop or cookie header and cannot be used"
            " (e.g. api-key, x-api-key)"
        )
    return None


def _check_header_option(options: Mapping[str, Any], name: str, field: str) -> None:
    value = options.get(name)
    if value is None:
        return
    problem = header_name_problem(value)
    if problem is not None:
        raise OptionsError(f"provider option {name!r} {problem}", field=f"{field}.{name}")


def _check_string_map(
    options: Mapping[str, Any], name: str, field: str, *, header_names: bool
) -> None:
    value = options.get(name)
    if value is None:
        return
    where = f"{field}.{name}"
    if not isinstance(value, Mapping):
        raise OptionsError(f"provider option {name!r} must be a mapping of strings", field=where)
    for key, item in value.items():
        if not isinstance(key, str) or not isinstance(item, str | int | float):
            raise OptionsError(
                f"provider option {name!r} must be a mapping of strings", field=where
            )
        if header_names and (
            header_name_problem(key) is not None or not all(32 <= ord(c) < 127 for c in str(item))
        ):
            raise OptionsError(
                f"provider option {name}.{key} is not a usable header", field=f"{where}.{key}"
            )


# -- base API URL ---------------------------------------------------------------------------------


def base_url_problem(url: str, *, allow_link_local: bool = False) -> str | None:
    """Why ``url`` cannot be a provider's base API URL, or None when it can.

    An http(s) URL with a host and, if given, a port from 1 to 65535, without control
    characters. Link-local and cloud metadata addresses (169.254.0.0/16, fe80::/10,
    fd00:ec2::254, metadata.google.internal) are refused unless ``allow_link_local``; loopback
    and private ranges are allowed (local servers).
    """
    text = url.strip()
    if not text:
        return f"must not be empty {_EXAMPLE_URL}"
    if len(text) > MAX_BASE_URL_LENGTH:
        return f"must be at most {MAX_BASE_URL_LENGTH} characters"
    if any(ord(c) < 32 or ord(c) == 127 for c in text):
        return "must not contain control characters"
    try:
        parts = urlsplit(text)
        host = parts.hostname
    except ValueError:
        return f"is not a valid URL {_EXAMPLE_URL}"
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc or not host:
        return f"must be an http(s) URL {_EXAMPLE_URL}"
    try:
        port = parts.port
    except ValueError:
        port = 0
    if port == 0:
        return f"has an invalid port: a port is a number from 1 to 65535 {_EXAMPLE_URL}"
    if not allow_link_local and _is_link_local(host):
        return (
            f"points at a link-local or cloud metadata address ({host}), where the key must not"
            " go; set the provider option allow_link_local: true if that is really the provider"
        )
    return None


def _is_link_local(host: str) -> bool:
    name = host.rstrip(".").lower()
    if name in _METADATA_HOSTS:
        return True
    address = _address_of(name)
    if address is None:
        return False
    if isinstance(address, ipaddress.IPv6Address):
        if address in _METADATA_ADDRESSES or address in _LINK_LOCAL_V6:
            return True
        mapped = address.ipv4_mapped
        return mapped is not None and mapped in _LINK_LOCAL_V4
    return address in _LINK_LOCAL_V4


def _address_of(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The IP address ``host`` spells, in any form the resolver accepts (``169.254.169.254``,
    ``2852039166``, ``0xa9.0xfe.0xa9.0xfe``, ``[fe80::1%eth0]``), or None for a name."""
    try:
        return ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        pass
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except (OSError, ValueError):
        return None


# -- all together ---------------------------------------------------------------------------------


def check_provider_settings(
    key: str, *, base_api_url: str, kind: object, options: object
) -> tuple[str, dict[str, Any] | None]:
    """Check one provider's key, kind, options and URL; the checked ``(kind, options)``.

    Every refusal names the field as ``providers.KEY.FIELD`` (``providers`` for the key).
    """
    check_provider_key(key)
    base = f"providers.{key}"
    try:
        checked_kind = check_kind(kind)
        checked_options = check_options(options)
    except OptionsError as exc:
        raise OptionsError(exc.reason, field=f"{base}.{exc.field}") from None
    allow = bool(checked_options and checked_options.get("allow_link_local"))
    problem = base_url_problem(base_api_url, allow_link_local=allow)
    if problem is not None:
        raise InvalidDocumentError(problem, field=f"{base}.base_api_url")
    return checked_kind, checked_options


def _nearest(name: str, known: tuple[str, ...]) -> list[str]:
    normal = name.strip().lower().replace("-", "_").replace(" ", "_")
    return difflib.get_close_matches(normal, known, n=1, cutoff=0.6)
