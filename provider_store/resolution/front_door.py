"""``provider_store.open()``: the one obvious way into the library."""

from __future__ import annotations

from provider_store.resolution.manager import ProviderManager


def open(url: str | None = None) -> ProviderManager:
    """A :class:`ProviderManager` over the catalog at ``url``: resolve, complete and discover.

    ``url`` is a database URL or a SQLite file path; by default ``$PROVIDER_STORE_URL``, else
    the per-user SQLite file (what the ``provider-store`` command uses). The catalog is created
    and migrated to the newest schema when needed. Its :attr:`~ProviderManager.store` is the
    :class:`~provider_store.ProviderStore` for curation (aliases, marks, history). Closing the
    manager (or leaving a ``with provider_store.open() as manager:`` block) closes the store.
    """
    from provider_store.store import ProviderStore

    return ProviderManager(store=ProviderStore(url), close_store=True)
