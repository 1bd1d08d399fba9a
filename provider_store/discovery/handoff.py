"""A background refresh finished by a process of its own, for a reader that exits first.

A short-lived process (a CLI call, a script) that served a stale list and took the refresh
lease (:mod:`~provider_store.discovery.revalidate`) does not wait for the network when it
exits: if the refresh has not begun, it is handed to a detached process
(``python -m provider_store.discovery.handoff KEY HOLDER``, the catalog's URL in the
environment, never on the command line) that keeps the same lease alive, refreshes the list
once and gives the lease back. Readers meanwhile find the lease held and serve the stale list,
so exactly one refresh reaches the provider.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys

from provider_store.catalog.catalog_store import CatalogStore
from provider_store.discovery import leases
from provider_store.errors import ProviderStoreError

__all__ = ["URL_ENV", "can_hand_off", "main", "spawn"]

logger = logging.getLogger(__name__)

URL_ENV = "PROVIDER_STORE_HANDOFF_URL"


def can_hand_off(url: str) -> bool:
    """True when another process can open the catalog at ``url`` (a file or a server, with
    its password when it has one)."""
    if "***" in url:
        return False  # a URL rendered without its password
    memory = url.startswith("sqlite") and (":memory:" in url or url.rstrip("/") in ("sqlite:",))
    return not memory and url != "sqlite://"


def spawn(url: str, provider_key: str, holder: str) -> bool:
    """Start the detached process that refreshes ``provider_key`` under ``holder``'s lease;
    False when it could not be started (the caller then gives the lease back)."""
    env = {**os.environ, URL_ENV: url}
    try:
        subprocess.Popen(
            [sys.executable, "-m", "provider_store.discovery.handoff", provider_key, holder],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            close_fds=True,
        )
    except OSError as exc:
        logger.warning("could not hand the refresh of %s on: %s", provider_key, exc)
        return False
    return True


def main(argv: list[str]) -> int:
    """Refresh ``argv``'s provider once under the lease it names, then give the lease back."""
    from provider_store.discovery.service import ModelDiscoveryService

    provider_key, holder = argv
    url = os.environ.pop(URL_ENV, "")
    store = CatalogStore(url, create=False)
    try:
        leases.keep_alive(store, provider_key, holder)
        try:
            with ModelDiscoveryService(store) as service:
                service.discover(store.rows.get_config(provider_key), force_refresh=True)
        finally:
            with store.transaction() as session:
                leases.release(session, provider_key, holder)
    except ProviderStoreError:
        return 1
    finally:
        store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
