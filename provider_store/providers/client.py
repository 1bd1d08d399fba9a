"""The HTTP client every provider kind sends through: ``get()`` and ``send_ping()`` over one
``requests.Session``.

Promises, the same for every kind:

- separate connect and read timeouts plus an overall wall-clock deadline per call, enforced on
  the whole exchange (a provider dripping its headers or body is cut off at the deadline, see
  :mod:`provider_store.providers.deadline`);
- GET is retried with exponential backoff on connection errors, 429 and 5xx, honouring
  ``Retry-After`` up to ``max_retry_after`` seconds (a longer wait gives up at once);
  a ping's POST is never retried here (the ping driver, :func:`~provider_store.providers.ping.
  run_ping`, decides what to send again);
- response bodies are read in chunks and capped (20 MiB by default): a larger body is a
  :class:`BadResponseError`, not an out-of-memory;
- redirects are followed by hand, only within the same scheme, host and port; a redirect to
  another origin is refused, so the key never travels to another host;
- TLS verification stays on; ``base_url`` with or without a trailing slash gives the same URLs;
- what requests takes from the environment (``HTTP(S)_PROXY``, ``NO_PROXY``,
  ``REQUESTS_CA_BUNDLE``) is read once per origin by each client, not on every request;
- the key never appears in log records, exception messages or reprs;
- :meth:`ProviderClient.list_models` reads an OpenAI-compatible list page by page
  (:mod:`provider_store.providers.list_pages`) up to a cap on models (20,000 by default) and
  pages; the ``openai`` kind lists through it, the other kinds page through :meth:`get`.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Mapping
from types import TracebackType
from typing import Any
from urllib.parse import urlencode, urljoin

import requests

from provider_store.errors import (
    BadResponseError,
    DiscoveryError,
    ProviderConnectionError,
)
from provider_store.providers.base import ConnectionOptions
from provider_store.providers.deadline import Exchange, WatchedAdapter, scope_limit
from provider_store.providers.http_responses import (
    header_safe,
    http_error,
    origin_of,
    read_capped,
    retry_delay,
    safe_url,
)
from provider_store.providers.http_responses import scrub as scrub
from provider_store.providers.list_pages import DEFAULT_MAX_MODELS, collect_pages
from provider_store.providers.ping import ChatReply, PingRequest
from provider_store.rules.limits import MAX_DEADLINE_SECONDS, check_number

__all__ = ["MAX_BODY_BYTES", "ProviderClient", "endpoint", "with_query"]

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 20 * 1024 * 1024
MAX_REDIRECTS = 5
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})


def endpoint(base_url: str, path: str) -> str:
    """``base_url`` joined with ``path``, whatever trailing slash the base has."""
    return base_url.strip().rstrip("/") + "/" + path.lstrip("/")


def with_query(url: str, *queries: Mapping[str, str] | None) -> str:
    """``url`` with the parameters of ``queries`` appended (later ones win on a repeated name)."""
    merged: dict[str, str] = {}
    for query in queries:
        merged.update(query or {})
    if not merged:
        return url
    return url + ("&" if "?" in url else "?") + urlencode(merged)


class ProviderClient:
    """A thread-safe HTTP client for the APIs of every provider kind, one ``requests.Session``.

    Keep-alive connections are pooled per host: up to ``pool_maxsize`` idle connections for
    each of up to ``pool_hosts`` hosts (a discovery run talks to every provider at once; with
    fewer host pools than providers, each request would open a new connection).
    """

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
        pool_maxsize: int = 64,
        pool_hosts: int = 128,
        max_models: int = DEFAULT_MAX_MODELS,
    ) -> None:
        self.connect_timeout = _seconds(connect_timeout, "connect_timeout")
        self.read_timeout = _seconds(read_timeout, "read_timeout")
        self.deadline = _seconds(deadline, "deadline")
        self.retries = retries
        self.backoff = backoff
        self.max_retry_after = max_retry_after
        self.max_body_bytes = max_body_bytes
        self.max_models = max_models
        self.session = requests.Session()
        self.session.verify = True
        self.session.max_redirects = MAX_REDIRECTS
        adapter = WatchedAdapter(
            pool_connections=pool_hosts, pool_maxsize=pool_maxsize, max_retries=0
        )
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self._closed = threading.Event()
        # Per origin: the proxies, CA bundle and stream flag requests derives from the environment.
        self._settings: dict[tuple[str, str, int | None], dict[str, Any]] = {}

    def __repr__(self) -> str:
        return (
            f"ProviderClient(connect_timeout={self.connect_timeout}, "
            f"read_timeout={self.read_timeout}, deadline={self.deadline}, retries={self.retries})"
        )

    def close(self) -> None:
        """Close pooled connections."""
        self._closed.set()
        self.session.close()

    def __enter__(self) -> ProviderClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- public calls -------------------------------------------------------------------------

    def list_models(
        self, base_url: str, api_key: str, *, options: ConnectionOptions | None = None
    ) -> list[dict[str, Any]]:
        """``GET {base_url}/models`` of an OpenAI-compatible API, every page, as raw items with a
        normalised string ``id`` (the key as ``Authorization: Bearer`` unless ``options`` say
        otherwise).

        Reads every list shape and paging style of :mod:`~provider_store.providers.list_pages`.
        Raises ProviderConnectionError, ProviderHTTPError (non-2xx after retries) or
        BadResponseError (not a list, an item without a usable id field, too large, more models
        than the cap). An empty list is returned as is; the caller decides what it means.
        """
        opts = options or ConnectionOptions()
        url = endpoint(base_url, "models")
        headers = opts.bearer(api_key)
        limits = opts.limits(self.max_models)

        def fetch(page: Mapping[str, str] | None) -> bytes:
            return self.get(with_query(url, opts.query, page), api_key, headers=headers)

        return collect_pages(url, fetch, limits)

    def get(
        self,
        url: str,
        api_key: str,
        *,
        headers: Mapping[str, str] | None = None,
    ) -> bytes:
        """The body of a 2xx answer to ``GET url``, retried on connection errors, 429 and 5xx.

        ``headers`` replace the default ``Authorization: Bearer`` header. Raises
        ProviderConnectionError, ProviderHTTPError or BadResponseError (oversize body).
        """
        started = time.monotonic()
        attempt = 0
        while True:
            try:
                status, resp_headers, body = self._request(
                    "GET", url, api_key, None, started, headers=headers
                )
            except ProviderConnectionError as exc:
                if exc.__cause__ is not None and isinstance(exc.__cause__, requests.Timeout):
                    raise
                if not self._sleep_before_retry(attempt, None, started):
                    raise
                attempt += 1
                continue
            if status in RETRY_STATUSES and self._sleep_before_retry(
                attempt, resp_headers.get("Retry-After"), started
            ):
                attempt += 1
                continue
            break
        if not 200 <= status < 300:
            raise http_error("GET", url, status, body, api_key)
        return body

    def send_ping(self, request: PingRequest, api_key: str) -> ChatReply:
        """``POST`` one ping request (its URL, headers and JSON payload); never retried, never
        raises.

        Any HTTP answer is returned with its (key-scrubbed) headers and body; a transport
        failure (connection, deadline, oversize body, bad redirect) as a reply without status
        and with a key-free description.
        """
        try:
            status, headers, body = self._request(
                "POST",
                request.url,
                api_key,
                request.payload,
                time.monotonic(),
                headers=request.headers,
            )
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
        if time.monotonic() + delay >= self._expires_at(started):
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
        *,
        headers: Mapping[str, str] | None = None,
    ) -> tuple[int, dict[str, str], bytes]:
        """One logical request: same-origin redirects followed by hand, body capped.

        ``headers`` (the key's header among them) replace ``Authorization: Bearer {api_key}``.
        """
        if not header_safe(api_key):
            raise DiscoveryError("The API key contains characters that cannot be sent")
        origin = origin_of(url)
        if origin[0] not in ("http", "https") or not origin[1]:
            raise DiscoveryError(f"Not an http(s) URL: {safe_url(url)}")
        sent = dict(headers) if headers is not None else ConnectionOptions().bearer(api_key)
        sent["Content-Type"] = "application/json"
        for _hop in range(MAX_REDIRECTS + 1):
            status, resp_headers, body = self._send(method, url, sent, payload, started, api_key)
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

    def _environment(self, url: str) -> dict[str, Any]:
        """What requests takes from the environment for ``url`` (proxies and ``NO_PROXY``, a CA
        bundle), read once per origin: requests reads it on every request, walking the whole
        environment twice each time."""
        origin = origin_of(url)
        settings = self._settings.get(origin)
        if settings is None:
            settings = dict(self.session.merge_environment_settings(url, {}, True, None, None))
            self._settings[origin] = settings
        return settings

    def _expires_at(self, started: float) -> float:
        """When a call begun at ``started`` must be over: its deadline, or an earlier scope's."""
        expires_at = started + self.deadline
        limit = scope_limit()
        return expires_at if limit is None else min(expires_at, limit)

    def _send(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        payload: dict[str, Any] | None,
        started: float,
        api_key: str,
    ) -> tuple[int, dict[str, str], bytes]:
        """One HTTP exchange, from connecting to the last body byte, ended at the deadline."""
        expires_at = self._expires_at(started)
        remaining = expires_at - time.monotonic()
        if remaining <= 0:
            raise _deadline_error(method, url, expires_at - started)
        timeout = (min(self.connect_timeout, remaining), min(self.read_timeout, remaining))
        data = json.dumps(payload).encode() if payload is not None else None
        with Exchange(expires_at) as exchange:
            try:
                prepared = self.session.prepare_request(
                    requests.Request(method, url, headers=headers, data=data)
                )
                response = self.session.send(
                    prepared, timeout=timeout, allow_redirects=False, **self._environment(url)
                )
            except requests.RequestException as exc:
                if exchange.expired:
                    raise _deadline_error(method, url, expires_at - started) from exc
                if isinstance(exc, requests.Timeout):
                    raise ProviderConnectionError(
                        f"{method} {safe_url(url)}: timed out ({exc.__class__.__name__})"
                    ) from exc
                raise ProviderConnectionError(
                    f"{method} {safe_url(url)}: connection failed ({exc.__class__.__name__})"
                ) from exc
            with response:
                try:
                    body = read_capped(
                        method,
                        url,
                        response,
                        started,
                        limit=self.max_body_bytes,
                        deadline=expires_at - started,
                    )
                except DiscoveryError as exc:
                    if exchange.expired:
                        raise _deadline_error(method, url, expires_at - started) from exc
                    raise
                if exchange.expired:  # the watchdog's shutdown can look like a short body
                    raise _deadline_error(method, url, expires_at - started)
                logger.debug("%s %s -> HTTP %s", method, safe_url(url), response.status_code)
                resp_headers = {k: scrub(v, api_key) for k, v in response.headers.items()}
                return response.status_code, resp_headers, body


def _seconds(value: float, field: str) -> float:
    """A timeout or deadline: a number of seconds above 0, up to a day."""
    return check_number(value, field=field, low=0, low_open=True, high=MAX_DEADLINE_SECONDS)


def _deadline_error(method: str, url: str, seconds: float) -> ProviderConnectionError:
    limit = f"{max(0.0, seconds):.3g}"
    return ProviderConnectionError(
        f"{method} {safe_url(url)}: no complete answer within the {limit} s deadline"
    )
