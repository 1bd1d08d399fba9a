"""Response-side helpers of the HTTP client: capped body reading, parsing, URLs and redaction.

No session and no retries here:
:class:`~provider_store.providers.client.ProviderClient` sends, these read what
came back. Every message they build is key-free: URLs lose user info, query and fragment
(:func:`safe_url`), provider error excerpts are scrubbed of the key
(:func:`~provider_store.rules.api_keys.mask_key_echoes`).
"""

from __future__ import annotations

import email.utils
import json
import time
from typing import Any
from urllib.parse import urlsplit

import requests

from provider_store.errors import BadResponseError, ProviderConnectionError, ProviderHTTPError
from provider_store.rules.api_keys import KEY_RUN as KEY_RUN
from provider_store.rules.api_keys import mask_key_echoes as scrub
from provider_store.rules.gc_pause import collector_paused

_MESSAGE_LIMIT = 300

__all__ = [
    "error_hint",
    "header_safe",
    "http_error",
    "origin_of",
    "parse_json",
    "parse_retry_after",
    "read_capped",
    "retry_delay",
    "safe_url",
    "scrub",
]


def read_capped(
    method: str,
    url: str,
    response: requests.Response,
    started: float,
    *,
    limit: int,
    deadline: float,
) -> bytes:
    """The body of a streamed ``response``, read in chunks.

    Raises BadResponseError when it exceeds ``limit`` bytes (declared or read) and
    ProviderConnectionError when reading fails or outlasts ``deadline`` seconds from ``started``.
    """
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BadResponseError(
            f"{method} {safe_url(url)}: body of {declared} bytes exceeds the {limit} byte cap"
        )
    chunks: list[bytes] = []
    size = 0
    try:
        for chunk in response.iter_content(chunk_size=65536):
            size += len(chunk)
            if size > limit:
                raise BadResponseError(
                    f"{method} {safe_url(url)}: body exceeds the {limit} byte cap"
                )
            if time.monotonic() - started > deadline:
                raise ProviderConnectionError(
                    f"{method} {safe_url(url)}: deadline exceeded while reading"
                )
            chunks.append(chunk)
    except requests.RequestException as exc:
        raise ProviderConnectionError(
            f"{method} {safe_url(url)}: reading the body failed ({exc.__class__.__name__})"
        ) from exc
    return b"".join(chunks)


def header_safe(value: str) -> bool:
    """True when ``value`` is printable ASCII, so it can travel in an HTTP header."""
    return all(32 <= ord(ch) < 127 for ch in value)


def origin_of(url: str) -> tuple[str, str, int | None]:
    """``(scheme, host, port)`` of ``url``, lower-cased, the scheme's default port filled in."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    default = {"http": 80, "https": 443}.get(scheme)
    return scheme, (parts.hostname or "").lower(), port if port is not None else default


def safe_url(url: str) -> str:
    """The URL without user info, query or fragment (where credentials could hide)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return f"{parts.scheme}://{host}{parts.path}"


def parse_retry_after(value: str) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (seconds or HTTP date); None if unreadable."""
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def retry_delay(
    attempt: int, retry_after: str | None, *, backoff: float, max_retry_after: float
) -> float | None:
    """Seconds to wait before retrying after ``attempt``: the exponential backoff, or a longer
    ``Retry-After``; None when the server asks for more than ``max_retry_after`` seconds."""
    delay: float = backoff * (2**attempt)
    if retry_after is not None:
        wanted = parse_retry_after(retry_after)
        if wanted is not None:
            if wanted > max_retry_after:
                return None
            delay = max(delay, wanted)
    return delay


def parse_json(url: str, body: bytes) -> Any:
    """``body`` parsed as JSON; BadResponseError naming ``url`` when it is not JSON.

    JSON nested deeper than the decoder can follow (``[[[[…`` 100,000 deep) is a
    BadResponseError too, never a bare RecursionError.
    """
    try:
        with collector_paused():
            return json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadResponseError(f"{safe_url(url)} did not answer JSON") from exc
    except RecursionError as exc:
        raise BadResponseError(f"{safe_url(url)} answered JSON nested too deeply") from exc


def error_hint(body: bytes, api_key: str) -> str:
    """A short, key-free excerpt of a provider's error message, prefixed with ': '."""
    message = ""
    try:
        with collector_paused():
            document = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        document = None
    if isinstance(document, dict):
        error = document.get("error")
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            message = error["message"]
        elif isinstance(error, str):
            message = error
        elif isinstance(document.get("message"), str):
            message = document["message"]
    # Only the excerpt is shown, so only the excerpt is scrubbed (a body may be megabytes).
    message = " ".join(message[: 4 * _MESSAGE_LIMIT].split())[:_MESSAGE_LIMIT]
    message = scrub(message, api_key)
    return f": {message}" if message else ""


def http_error(method: str, url: str, status: int, body: bytes, api_key: str) -> ProviderHTTPError:
    """A non-2xx answer as a ProviderHTTPError with a key-free excerpt of the provider's error."""
    hint = error_hint(body, api_key)
    return ProviderHTTPError(
        f"{method} {safe_url(url)} answered HTTP {status}{hint}", status=status
    )
