"""What a SQLite catalog file must be before it is opened: there (unless it may be created),
and a SQLite database.

A mistyped path must not become a new empty catalog for a caller that only reads, and a file
that is no database at all (a YAML file given as the catalog) is bad input, not a failed
operation. Other backends are not checked here.
"""

from __future__ import annotations

import stat

from provider_store.catalog.db import sqlite_path
from provider_store.errors import ConfigurationError

__all__ = ["SQLITE_HEADER", "check_catalog_file"]

# The first 16 bytes of every SQLite 3 database file.
SQLITE_HEADER = b"SQLite format 3\x00"


def check_catalog_file(url: str, *, create: bool) -> None:
    """ConfigurationError when the SQLite file behind ``url`` is not a database, or (without
    ``create``) does not exist or is empty. Nothing is created or changed here."""
    path = sqlite_path(url)
    if path is None:
        return
    try:
        info = path.stat()
    except FileNotFoundError:
        info = None
    except OSError:
        return  # opening it names the cause
    if info is None and not path.parent.is_dir():
        return  # opening it says the directory is missing (it is never made for a given path)
    if info is None or (stat.S_ISREG(info.st_mode) and info.st_size == 0):
        if not create:
            raise ConfigurationError(
                f"No catalog at {path} (nothing was created): create one with"
                " `provider-store db upgrade` or `provider-store import FILE`"
            )
        return
    if not stat.S_ISREG(info.st_mode):
        return  # a directory or a device: opening it names the cause
    try:
        with open(path, "rb") as file:
            header = file.read(len(SQLITE_HEADER))
    except OSError:
        return
    if header != SQLITE_HEADER:
        raise ConfigurationError(
            f"{path} is not a provider-store catalog (not a SQLite database); nothing was"
            " changed. Give the catalog's file or URL with --db or $PROVIDER_STORE_URL"
        )
