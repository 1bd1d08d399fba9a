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

import json
import logging
import threading
import time
from dataclasses import dataclass
from types import TracebackType
from typing import Any
from urllib.parse import urljoin

import requests
from requests.adapters import HTTPAdapter

from provider_store.errors import (
    BadResponseError,
    DiscoveryError,
    ProviderConnectionError,
)
from provider_store.providers.ping import PING_SYSTEM_PROMPT as PING_SYSTEM_PROMPT
from provider_store.providers.ping import AnswerKind, ChatReply, PingStyle, read_answer
from provider_store.providers.transport import (
    header_safe,
    http_error,
    models_from_body,
    origin_of,
    read_capped,
    retry_delay,
    safe_url,
)
from provider_store.providers.transport import scrub as scrub

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 20 * 1024 * 1024
MAX_REDIRECTS = 5
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})


def ping_payload(model: str) -> dict[str, Any]:
    """The exact JSON body of a classic validation ping for ``model``."""
    return PingStyle().payload(model)


def endpoint(base_url: str, path: str) -> str:
    """``base_url`` joined with ``path``, whatever trailing slash the base has."""
    return base_url.strip().rstrip("/") + "/" + path.lstrip("/")


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
            raise http_error("GET", url, status, body, api_key)
        return models_from_body(url, body)

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
            error = http_error("POST", url, status, body, api_key)
            return PingResult(status=status, content=None, detail=str(error), error=error)
        answer = read_answer(body)
        if answer.kind is AnswerKind.MALFORMED:
            bad = BadResponseError("chat completion without choices[0].message")
            return PingResult(status=status, content=None, detail=str(bad), error=bad)
        content = answer.text  # string or text parts, thinking removed
        return PingResult(status=status, content=content, detail=f"HTTP {status}: {content[:80]!r}")

    def chat(self, base_url: str, api_key: str, payload: dict[str, Any]) -> ChatReply:
        """``POST {base_url}/chat/completions`` with ``payload``; never retried, never raises.

        Any HTTP answer is returned with its (key-scrubbed) headers and body; a transport
        failure as a reply without status and with a key-free description.
        """
        url = endpoint(base_url, "chat/completions")
        try:
            status, headers, body = self._request("POST", url, api_key, payload, time.monotonic())
        except DiscoveryError as exc:
            return ChatReply(status=None, failure=scrub(str(exc), api_key))
        return ChatReply(status=status, headers=headers, body=body)

    # -- plumbing -----------------------------------------------------------------------------

    def _sleep_before_retry(self, attempt: int, retry_after: str | None, started: float) -> bool:
        """Wait before the next GET attempt; False when no attempt is left or time is up."""
        if attempt >= self.retries or self._closed.is_set():
            return False
        delay = retry_delay(
            attempt, retry_after, backoff=self.backoff, max_retry_after=self.max_retry_after
        )
        if delay is None:
            return False
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
        if not header_safe(api_key):
            raise DiscoveryError("The API key contains characters that cannot be sent")
        origin = origin_of(url)
        if origin[0] not in ("http", "https") or not origin[1]:
            raise DiscoveryError(f"Not an http(s) URL: {safe_url(url)}")
        headers = {"Authorization": f"Bearer {api_key}", "Content-Type": "application/json"}
        for _hop in range(MAX_REDIRECTS + 1):
            status, resp_headers, body = self._send(method, url, headers, payload, started)
            location = resp_headers.get("Location")
            if status not in REDIRECT_STATUSES or not location:
                return status, resp_headers, body
            target = urljoin(url, location)
            if origin_of(target) != origin:
                raise BadResponseError(
                    f"{method} {safe_url(url)} redirected to another host "
                    f"({safe_url(target)}); not followed so the key stays with the provider"
                )
            logger.debug("following redirect %s -> %s", safe_url(url), safe_url(target))
            url = target
            if status == 303:
                method, payload = "GET", None
        raise BadResponseError(f"{method} {safe_url(url)}: too many redirects")

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
            raise ProviderConnectionError(f"{method} {safe_url(url)}: deadline exceeded")
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
                f"{method} {safe_url(url)}: timed out ({exc.__class__.__name__})"
            ) from exc
        except requests.RequestException as exc:
            raise ProviderConnectionError(
                f"{method} {safe_url(url)}: connection failed ({exc.__class__.__name__})"
            ) from exc
        with response:
            body = read_capped(
                method, url, response, started, limit=self.max_body_bytes, deadline=self.deadline
            )
            logger.debug("%s %s -> HTTP %s", method, safe_url(url), response.status_code)
            resp_headers = {k: scrub(v, api_key) for k, v in response.headers.items()}
            return response.status_code, resp_headers, body
