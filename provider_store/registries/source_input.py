"""The bytes of a registry the user names (a file or an http(s) URL), read as provider input is.

- One overall wall-clock deadline for the whole read, however the bytes arrive: a URL that drips
  a byte every few seconds is cut off when it expires (the sockets of the exchange are shut down
  by :mod:`provider_store.providers.deadline`'s watchdog), and so is a slow file.
- One size cap (:data:`MAX_REGISTRY_BYTES`), declared or read.
- Only a regular file is read: a FIFO, a device, a socket or a directory is refused before a
  single byte is read (the file is opened without blocking, then checked with ``fstat``).
- Redirects are followed by hand, each target checked like a provider's base URL (no
  link-local or cloud metadata address) and refused when it changes the scheme; a body cut
  short is a clean :class:`~provider_store.errors.RegistryError`, never a traceback.
- User info, query and fragment of a URL never reach a stored source, a message or a log
  (:func:`shown_location`); a user:password in the URL is still used to fetch it.

Bad input (not a regular file, over the cap) raises
:class:`~provider_store.errors.InvalidRegistryError` (exit 2); a failed fetch (connection,
HTTP status, deadline) raises :class:`~provider_store.errors.RegistryError` (exit 1).
"""

from __future__ import annotations

import hashlib
import math
import os
import stat
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import requests
import urllib3

from provider_store.errors import (
    BadResponseError,
    ConfigurationError,
    DiscoveryError,
    InvalidRegistryError,
    RegistryError,
)
from provider_store.providers.deadline import Exchange, WatchedAdapter
from provider_store.providers.http_responses import read_capped, safe_url
from provider_store.rules.limits import DEFAULT_REGISTRY_DEADLINE, MAX_DEADLINE_SECONDS
from provider_store.rules.provider_settings import base_url_problem

__all__ = [
    "MAX_REGISTRY_BYTES",
    "RegistryBytes",
    "is_url",
    "read_registry",
    "shown_location",
]

# LiteLLM's cost map is about 3.5 MB; a registry ten times larger is not one.
MAX_REGISTRY_BYTES = 64 * 1024 * 1024
MAX_REDIRECTS = 5
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_CHUNK = 1024 * 1024
# A failure this close to the deadline (a socket timeout set to the time left) is the deadline.
_NEAR = 0.1


@dataclass(frozen=True, slots=True)
class RegistryBytes:
    """A registry's content as read: where from (shown form), the bytes and their SHA-256."""

    location: str
    body: bytes
    content_hash: str


def is_url(where: str | Path) -> bool:
    """True when ``where`` names an http(s) URL rather than a file."""
    return isinstance(where, str) and where.strip().lower().startswith(("http://", "https://"))


def shown_location(where: str | Path) -> str:
    """``where`` as it may be stored or printed: a URL without user info, query or fragment,
    a path as given."""
    if not is_url(where):
        return str(where)
    try:
        return safe_url(str(where).strip())
    except ValueError:
        return "<unreadable URL>"


def read_registry(
    where: str | Path,
    *,
    deadline: float = DEFAULT_REGISTRY_DEADLINE,
    limit: int = MAX_REGISTRY_BYTES,
) -> RegistryBytes:
    """The content of the file or URL ``where``, within ``deadline`` seconds and ``limit`` bytes.

    ConfigurationError when ``deadline`` is not a number of seconds above 0 (NaN included)."""
    if isinstance(deadline, bool) or not isinstance(deadline, int | float):
        raise ConfigurationError(f"registry deadline must be a number of seconds, not {deadline!r}")
    if not (math.isfinite(deadline) and 0 < deadline <= MAX_DEADLINE_SECONDS):
        raise ConfigurationError(
            f"registry deadline must be more than 0 and at most {MAX_DEADLINE_SECONDS:g}"
            f" seconds, not {deadline!r}"
        )
    started = time.monotonic()
    if is_url(where):
        body = _fetch(str(where).strip(), started + deadline, deadline, limit)
    else:
        body = _read_file(Path(str(where)).expanduser(), started + deadline, limit)
    return RegistryBytes(shown_location(where), body, hashlib.sha256(body).hexdigest())


def _read_file(path: Path, expires_at: float, limit: int) -> bytes:
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise RegistryError(f"{path}: cannot read the registry ({exc.strerror})") from exc
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise InvalidRegistryError(
                f"not a regular file ({_kind(info.st_mode)}); name a registry file",
                path=str(path),
            )
        if info.st_size > limit:
            raise InvalidRegistryError(_over(info.st_size, limit), path=str(path))
        chunks: list[bytes] = []
        size = 0
        while True:
            if time.monotonic() > expires_at:
                raise RegistryError(f"{path}: not read within the registry deadline")
            try:
                chunk = os.read(fd, _CHUNK)
            except OSError as exc:
                raise RegistryError(f"{path}: cannot read the registry ({exc.strerror})") from exc
            if not chunk:
                return b"".join(chunks)
            size += len(chunk)
            if size > limit:
                raise InvalidRegistryError(_over(size, limit), path=str(path))
            chunks.append(chunk)
    finally:
        os.close(fd)


def _kind(mode: int) -> str:
    for test, name in (
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISDIR, "a directory"),
    ):
        if test(mode):
            return name
    return "not a file"


def _over(size: int, limit: int) -> str:
    return f"larger than the {limit:,} byte cap of a registry ({size:,} bytes or more)"


def _fetch(url: str, expires_at: float, deadline: float, limit: int) -> bytes:
    scheme = urlsplit(url).scheme.lower()
    current = url
    with requests.Session() as session:
        adapter = WatchedAdapter(max_retries=0)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        for _hop in range(MAX_REDIRECTS + 1):
            problem = _url_problem(current)
            if problem is not None:
                raise InvalidRegistryError(problem, path=safe_url(current))
            status, location, body = _exchange(session, current, expires_at, deadline, limit)
            if status in _REDIRECTS and location:
                target = urljoin(current, location)
                if urlsplit(target).scheme.lower() != scheme:
                    raise RegistryError(
                        f"{safe_url(current)} redirected to {safe_url(target)}: a change of"
                        " scheme is not followed"
                    )
                current = target
                continue
            if not 200 <= status < 300:
                raise RegistryError(f"cannot fetch the registry {safe_url(current)}: HTTP {status}")
            return body
    raise RegistryError(f"{safe_url(url)}: more than {MAX_REDIRECTS} redirects")


def _url_problem(url: str) -> str | None:
    """Why ``url`` cannot be fetched as a registry (checked as a provider's base URL is)."""
    problem = base_url_problem(url, allow_link_local=True)
    if problem is not None:
        return f"the registry URL {problem}"
    if base_url_problem(url) is not None:
        host = urlsplit(url).hostname
        return f"the registry URL points at a link-local or cloud metadata address ({host})"
    return None


def _exchange(
    session: requests.Session, url: str, expires_at: float, deadline: float, limit: int
) -> tuple[int, str | None, bytes]:
    """One request and its whole body, ended at ``expires_at``: (status, Location, body)."""
    shown = safe_url(url)
    remaining = expires_at - time.monotonic()
    if remaining <= 0:
        raise _late(shown, deadline)
    with Exchange(expires_at) as exchange:
        try:
            response = session.get(
                url,
                timeout=(min(10.0, remaining), remaining),
                stream=True,
                allow_redirects=False,
                headers={"Accept": "application/json"},
            )
        except (requests.RequestException, urllib3.exceptions.HTTPError) as exc:
            if exchange.expired or expires_at - time.monotonic() < _NEAR:
                raise _late(shown, deadline) from exc  # a timeout set to what was left
            if isinstance(exc, requests.Timeout):
                raise RegistryError(f"cannot fetch the registry {shown}: timed out") from exc
            raise RegistryError(
                f"cannot fetch the registry {shown}: {exc.__class__.__name__}"
            ) from exc
        with response:
            if response.status_code in _REDIRECTS:
                return response.status_code, response.headers.get("Location"), b""
            started = expires_at - deadline
            try:
                body = read_capped("GET", url, response, started, limit=limit, deadline=deadline)
            except (DiscoveryError, urllib3.exceptions.HTTPError) as exc:
                if exchange.expired or expires_at - time.monotonic() < _NEAR:
                    raise _late(shown, deadline) from exc
                if isinstance(exc, BadResponseError):
                    raise InvalidRegistryError(
                        f"larger than the {limit:,} byte cap of a registry", path=shown
                    ) from exc
                raise RegistryError(
                    f"cannot fetch the registry {shown}: the body was cut short or unreadable"
                ) from exc
            if exchange.expired:
                raise _late(shown, deadline)
            return response.status_code, None, body


def _late(shown: str, deadline: float) -> RegistryError:
    return RegistryError(f"{shown}: no complete answer within the {deadline:.3g} s deadline")
