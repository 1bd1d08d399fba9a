"""OpenAI-compatible HTTP client: ``list_models()`` and ``ping()`` over one ``requests.Session``.

Promises:

- separate connect and read timeouts plus an overall deadline per call;
- GET is retried with exponential backoff on connection errors, 429 and 5xx, honouring
  ``Retry-After`` up to ``max_retry_after`` seconds (a longer wait gives up at once);
  the POST ping is never retried;
- response bodies are read in chunks and capped (20 MiB by default): a larger body is a
  :class:`BadResponseError`, not an out-of-memory;
- redirects are followed by hand, only within the same scheme, host and port; a redirect to
  another origin is refused, so the key never travels to another host;
- TLS verification stays on; ``base_url`` with or without a trailing slash gives the same URLs;
- the key never appears in log records, exception messages or reprs.
"""

from __future__ import annotations

import email.utils
import json
import logging
import threading
import time
from dataclasses import dataclass
from types import TracebackType
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter

from provider_store.errors import (
    BadResponseError,
    DiscoveryError,
    ProviderConnectionError,
    ProviderHTTPError,
)

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 20 * 1024 * 1024
MAX_REDIRECTS = 5
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
PING_SYSTEM_PROMPT = "If I say 'ping', you will respond with 'pong'."
_MESSAGE_LIMIT = 300


def ping_payload(model: str) -> dict[str, Any]:
    """The exact JSON body of a validation ping for ``model``."""
    return {
        "model": model,
        "messages": [
            {"role": "system", "content": PING_SYSTEM_PROMPT},
            {"role": "user", "content": "ping"},
        ],
        "max_tokens": 10,
        "temperature": 0.1,
    }


def endpoint(base_url: str, path: str) -> str:
    """``base_url`` joined with ``path``, whatever trailing slash the base has."""
    return base_url.strip().rstrip("/") + "/" + path.lstrip("/")


def scrub(text: str, secret: str | None) -> str:
    """``text`` with every occurrence of ``secret`` (and of a long enough prefix) masked."""
    if secret:
        text = text.replace(secret, "***")
        if len(secret) >= 12:
            text = text.replace(secret[:8], "***")
    return text


@dataclass(frozen=True)
class PingResult:
    """What a ping returned, before any verdict.

    ``status`` is the HTTP status (None when no response arrived), ``content`` the first choice's
    message text when there was one, ``error`` the failure when the call did not return a usable
    2xx answer, ``detail`` a short key-free description.
    """

    status: int | None
    content: str | None
    detail: str
    error: DiscoveryError | None = None

    @property
    def pong(self) -> bool:
        """True iff a 2xx answer's first choice contains "pong" (any case)."""
        return self.error is None and self.content is not None and "pong" in self.content.lower()


class OpenAIClient:
    """A thread-safe client for OpenAI-compatible APIs, owning one ``requests.Session``."""

    def __init__(
        self,
        *,
        connect_timeout: float = 5.0,
        read_timeout: float = 10.0,
        deadline: float = 30.0,
        retries: int = 2,
        backoff: float = 0.5,
        max_retry_after: float = 10.0,
        max_body_bytes: int = MAX_BODY_BYTES,
        pool_maxsize: int = 32,
    ) -> None:
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.deadline = deadline
        self.retries = retries
        self.backoff = backoff
        self.max_retry_after = max_retry_after
        self.max_body_bytes = max_body_bytes
        self.session = requests.Session()
        self.session.verify = True
        self.session.max_redirects = MAX_REDIRECTS
        adapter = HTTPAdapter(pool_connections=8, pool_maxsize=pool_maxsize, max_retries=0)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self._closed = threading.Event()

    def __repr__(self) -> str:
        return (
            f"OpenAIClient(connect_timeout={self.connect_timeout}, "
            f"read_timeout={self.read_timeout}, deadline={self.deadline}, retries={self.retries})"
        )

    def close(self) -> None:
        """Close pooled connections."""
        self._closed.set()
        self.session.close()

    def __enter__(self) -> OpenAIClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- public calls -------------------------------------------------------------------------

    def list_models(self, base_url: str, api_key: str) -> list[dict[str, Any]]:
        """``GET {base_url}/models`` and return its ``data`` list.

        Raises ProviderConnectionError, ProviderHTTPError (non-2xx after retries) or
        BadResponseError (not JSON, no ``data`` list, an item without a string ``id``, too large).
        An empty ``data`` list is returned as is; the caller decides what it means.
        """
        url = endpoint(base_url, "models")
        started = time.monotonic()
        attempt = 0
        while True:
            try:
                status, headers, body = self._request("GET", url, api_key, None, started)
            except ProviderConnectionError as exc:
                if exc.__cause__ is not None and isinstance(exc.__cause__, requests.Timeout):
                    raise
                if not self._sleep_before_retry(attempt, None, started):
                    raise
                attempt += 1
                continue
            if status in RETRY_STATUSES and self._sleep_before_retry(
                attempt, headers.get("Retry-After"), started
            ):
                attempt += 1
                continue
            break
        if not 200 <= status < 300:
            hint = _error_hint(body, api_key)
            raise ProviderHTTPError(
                f"GET {_safe_url(url)} answered HTTP {status}{hint}", status=status
            )
        return _models_from_body(url, body)

    def ping(self, base_url: str, api_key: str, model: str) -> PingResult:
        """``POST {base_url}/chat/completions`` with :func:`ping_payload`; never retried.

        Never raises for network or HTTP trouble: the outcome is in the returned PingResult.
        """
        url = endpoint(base_url, "chat/completions")
        try:
            status, _headers, body = self._request(
                "POST", url, api_key, ping_payload(model), time.monotonic()
            )
        except DiscoveryError as exc:
            return PingResult(status=None, content=None, detail=str(exc), error=exc)
        if not 200 <= status < 300:
            hint = _error_hint(body, api_key)
            error = ProviderHTTPError(
                f"POST {_safe_url(url)} answered HTTP {status}{hint}", status=status
            )
            return PingResult(status=status, content=None, detail=str(error), error=error)
        try:
            content = _first_choice_content(body)
        except BadResponseError as exc:
            return PingResult(status=status, content=None, detail=str(exc), error=exc)
        return PingResult(status=status, content=content, detail=f"HTTP {status}: {content[:80]!r}")

    # -- plumbing -----------------------------------------------------------------------------

    def _sleep_before_retry(self, attempt: int, retry_after: str | None, started: float) -> bool:
        """Wait before the next GET attempt; False when no attempt is left or time is up."""
        if attempt >= self.retries or self._closed.is_set():
            return False
        delay = self.backoff * (2**attempt)
        if retry_after is not None:
            wanted = _parse_retry_after(retry_after)
            if wanted is not None:
                if wanted > self.max_retry_after:
                    return False
                delay = max(delay, wanted)
        if time.monotonic() - started + delay >= self.deadline:
            return False
        logger.debug("retrying in %.2f s (attempt %d)", delay, attempt + 2)
        time.sleep(delay)
        return True

    def _request(
        self,
        method: str,
        url: str,
        api_key: str,
        payload: dict[str, Any] | None,
        started: float,
    ) -> tuple[int, dict[str, str], bytes]:
        """One logical request: same-origin redirects followed by hand, body capped."""
        if not _header_safe(api_key):
            raise DiscoveryError("The API key contains characters that cannot be sent")
        origin = _origin(url)
        if origin[0] not in ("http", "https") or not origin[1]:
            raise DiscoveryError(f"Not an http(s) URL: {_safe_url(url)}")
        headers = {"Authorization": f"Bearer {api_key}", "Content-Type": "application/json"}
        for _hop in range(MAX_REDIRECTS + 1):
            status, resp_headers, body = self._send(method, url, headers, payload, started)
            location = resp_headers.get("Location")
            if status not in REDIRECT_STATUSES or not location:
                return status, resp_headers, body
            target = urljoin(url, location)
            if _origin(target) != origin:
                raise BadResponseError(
                    f"{method} {_safe_url(url)} redirected to another host "
                    f"({_safe_url(target)}); not followed so the key stays with the provider"
                )
            logger.debug("following redirect %s -> %s", _safe_url(url), _safe_url(target))
            url = target
            if status == 303:
                method, payload = "GET", None
        raise BadResponseError(f"{method} {_safe_url(url)}: too many redirects")

    def _send(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        payload: dict[str, Any] | None,
        started: float,
    ) -> tuple[int, dict[str, str], bytes]:
        remaining = self.deadline - (time.monotonic() - started)
        if remaining <= 0:
            raise ProviderConnectionError(f"{method} {_safe_url(url)}: deadline exceeded")
        timeout = (min(self.connect_timeout, remaining), min(self.read_timeout, remaining))
        data = json.dumps(payload).encode() if payload is not None else None
        api_key = headers["Authorization"][len("Bearer ") :]
        try:
            response = self.session.request(
                method,
                url,
                headers=headers,
                data=data,
                timeout=timeout,
                allow_redirects=False,
                stream=True,
            )
        except requests.Timeout as exc:
            raise ProviderConnectionError(
                f"{method} {_safe_url(url)}: timed out ({exc.__class__.__name__})"
            ) from exc
        except requests.RequestException as exc:
            raise ProviderConnectionError(
                f"{method} {_safe_url(url)}: connection failed ({exc.__class__.__name__})"
            ) from exc
        with response:
            body = self._read_capped(method, url, response, started)
            logger.debug("%s %s -> HTTP %s", method, _safe_url(url), response.status_code)
            resp_headers = {k: scrub(v, api_key) for k, v in response.headers.items()}
            return response.status_code, resp_headers, body

    def _read_capped(
        self, method: str, url: str, response: requests.Response, started: float
    ) -> bytes:
        limit = self.max_body_bytes
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > limit:
            raise BadResponseError(
                f"{method} {_safe_url(url)}: body of {declared} bytes exceeds the {limit} byte cap"
            )
        chunks: list[bytes] = []
        size = 0
        try:
            for chunk in response.iter_content(chunk_size=65536):
                size += len(chunk)
                if size > limit:
                    raise BadResponseError(
                        f"{method} {_safe_url(url)}: body exceeds the {limit} byte cap"
                    )
                if time.monotonic() - started > self.deadline:
                    raise ProviderConnectionError(
                        f"{method} {_safe_url(url)}: deadline exceeded while reading"
                    )
                chunks.append(chunk)
        except requests.RequestException as exc:
            raise ProviderConnectionError(
                f"{method} {_safe_url(url)}: reading the body failed ({exc.__class__.__name__})"
            ) from exc
        return b"".join(chunks)


def _header_safe(value: str) -> bool:
    return all(32 <= ord(ch) < 127 for ch in value)


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    default = {"http": 80, "https": 443}.get(scheme)
    return scheme, (parts.hostname or "").lower(), port if port is not None else default


def _safe_url(url: str) -> str:
    """The URL without user info, query or fragment (where credentials could hide)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return f"{parts.scheme}://{host}{parts.path}"


def _parse_retry_after(value: str) -> float | None:
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


def _json(url: str, body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadResponseError(f"{_safe_url(url)} did not answer JSON") from exc


def _models_from_body(url: str, body: bytes) -> list[dict[str, Any]]:
    document = _json(url, body)
    data = document.get("data") if isinstance(document, dict) else None
    if not isinstance(data, list):
        raise BadResponseError(f"{_safe_url(url)} answered JSON without a 'data' list")
    for item in data:
        if not isinstance(item, dict) or not isinstance(item.get("id"), str) or not item["id"]:
            raise BadResponseError(f"{_safe_url(url)} listed a model without a string 'id'")
    return data


def _first_choice_content(body: bytes) -> str:
    document = _json("chat/completions", body)
    try:
        content = document["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError) as exc:
        raise BadResponseError("chat completion without choices[0].message") from exc
    if content is None:
        return ""
    if not isinstance(content, str):
        raise BadResponseError("chat completion whose message content is not text")
    return content


def _error_hint(body: bytes, api_key: str) -> str:
    """A short, key-free excerpt of a provider's error message, prefixed with ': '."""
    message = ""
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        document = None
    if isinstance(document, dict):
        error = document.get("error")
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            message = error["message"]
        elif isinstance(error, str):
            message = error
        elif isinstance(document.get("message"), str):
            message = document["message"]
    message = scrub(" ".join(message.split()), api_key)[:_MESSAGE_LIMIT]
    return f": {message}" if message else ""
