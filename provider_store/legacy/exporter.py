"""Legacy YAML export of a ProviderStore, and the atomic file write it uses.

Export writes exactly what is stored: keys from the environment ({KEY}_API_KEY) are applied at use
time only, so they never reach the database or an export.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Table, select

from provider_store.catalog.states import ModelStatus
from provider_store.catalog.tables import CatalogMeta, Model, Provider
from provider_store.errors import (
    InvalidDocumentError,
    ProviderStoreError,
    StoreError,
    os_cause,
)
from provider_store.legacy.document import LegacyDocument, LegacyProvider, dump_document
from provider_store.legacy.export_target import check_export_target
from provider_store.legacy.importer import TOP_LEVEL_EXTRA_KEY
from provider_store.legacy.metadata_section import export_metadata
from provider_store.rules import DEFAULT_KIND

if TYPE_CHECKING:
    from provider_store.catalog.catalog_store import CatalogStore as ProviderStore

logger = logging.getLogger(__name__)

_providers: Table = Provider.__table__  # type: ignore[attr-defined]
_models: Table = Model.__table__  # type: ignore[attr-defined]
_meta: Table = CatalogMeta.__table__  # type: ignore[attr-defined]
_VALID, _INVALID = ModelStatus.VALID.value, ModelStatus.INVALID.value


def export_document(store: ProviderStore, *, with_metadata: bool = False) -> LegacyDocument:
    """The store's catalog as a legacy document (stored keys only, never environment keys).

    ``with_metadata`` adds each provider's ``model_metadata`` (listed metadata of its valid and
    invalid models); without it the document is the legacy one, byte for byte.
    """
    c, m = _providers.c, _models.c
    document = LegacyDocument(source=store.url)
    with store.read() as session:
        conn = session.connection()
        by_id: dict[int, LegacyProvider] = {}
        for row in conn.execute(
            select(
                c.id, c.key, c.name, c.base_api_url, c.api_key, c.extra, c.kind, c.options
            ).order_by(c.position, c.id)
        ):
            provider = LegacyProvider(
                key=row.key,
                name=row.name,
                base_api_url=row.base_api_url,
                api_key=row.api_key,
                valid_models={},
                invalid_models=[],
                extra=dict(row.extra or {}),
                kind=row.kind or DEFAULT_KIND,
                options=row.options,
            )
            by_id[row.id] = provider
            document.providers[row.key] = provider
        rows = conn.execute(
            select(m.provider_id, m.status, m.model_id, m.alias)
            .where(m.status.in_([_VALID, _INVALID]))
            .order_by(m.provider_id, m.status, m.position, m.id)
        )
        for provider_id, status, model_id, alias in rows:
            if status == _VALID:
                by_id[provider_id].valid_models[model_id] = alias
            else:
                by_id[provider_id].invalid_models.append(model_id)
        if with_metadata:
            for provider_id, entries in export_metadata(conn).items():
                by_id[provider_id].model_metadata = entries
        meta = conn.execute(
            select(_meta.c.value).where(_meta.c.key == TOP_LEVEL_EXTRA_KEY)
        ).scalar_one_or_none()
        document.extra = dict(meta or {})
    return document


def export_bytes(
    store: ProviderStore, *, redact_keys: bool = False, with_metadata: bool = False
) -> tuple[bytes, bool]:
    """The export as YAML bytes, and whether it contains any non-empty API key."""
    document = export_document(store, with_metadata=with_metadata)
    has_keys = not redact_keys and any(p.api_key for p in document.providers.values())
    return dump_document(document, redact_keys=redact_keys), has_keys


def export_yaml(
    store: ProviderStore,
    path: str | Path,
    *,
    redact_keys: bool = False,
    with_metadata: bool = False,
) -> int:
    """Write the export to ``path`` atomically (0600 when it holds keys); return its size.

    ``path`` must be a regular file or not exist yet (:func:`check_export_target`)."""
    check_export_target(path)
    data, has_keys = export_bytes(store, redact_keys=redact_keys, with_metadata=with_metadata)
    write_atomic(Path(path), data, private=has_keys)
    logger.info("Exported the catalog to %s (%d bytes)", path, len(data))
    return len(data)


def write_atomic(path: Path, data: bytes, *, private: bool) -> None:
    """Write ``data`` to a temp file beside ``path``, fsync it, then rename it over ``path``.

    A private file gets mode 0600; otherwise the mode an ordinary new file would get (0666 minus
    the umask), or the existing file's mode. Anything but a regular file at ``path`` (a device,
    a FIFO, a symbolic link, a directory) is refused and left as it was
    (:func:`check_export_target`).
    """
    check_export_target(path)
    directory = path.parent
    remove_stale_temp_files(path)
    try:
        # mkstemp creates the file 0600 from the start: a key never sits in a readable file.
        fd, temp_name = tempfile.mkstemp(
            prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp", dir=directory
        )
    except OSError as exc:
        raise write_error(path, exc) from exc
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp_name, 0o600 if private else _public_mode(path))
        check_export_target(path)  # again: something may have been put there meanwhile
        os.replace(temp_name, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(temp_name)
        raise write_error(path, exc) from exc
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp_name)
        raise
    with contextlib.suppress(OSError):  # make the rename durable; not every platform can
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


# A write that fails for these reasons was pointed at the wrong place: bad input (exit 2).
# Any other failure (disk full, I/O error, permission) is an operation failure (exit 1).
_BAD_PLACE = (errno.ENOENT, errno.ENOTDIR, errno.EISDIR)


def write_error(path: Path | str, exc: OSError) -> ProviderStoreError:
    """The error for a failed export write: InvalidDocumentError for a missing directory or a
    directory given as the file, else StoreError; both name ``path`` and the cause."""
    if exc.errno in _BAD_PLACE:
        return InvalidDocumentError(f"cannot write: {os_cause(exc)}", path=path)
    return StoreError(f"Cannot write {path}: {os_cause(exc)}")


def remove_stale_temp_files(path: Path) -> list[Path]:
    """Delete temp files of ``path`` left by killed exports; return what was removed.

    A temp file is named ``.{name}.{pid}.{random}.tmp``; it is stale when process ``pid`` no
    longer runs on this host. Files of running processes are left alone.
    """
    removed: list[Path] = []
    try:
        candidates = list(path.parent.glob(f".{glob_escape(path.name)}.*.tmp"))
    except OSError:
        return removed
    for candidate in candidates:
        middle = candidate.name[len(path.name) + 2 : -len(".tmp")]
        pid_text = middle.split(".", 1)[0]
        if not pid_text.isdigit() or _process_alive(int(pid_text)):
            continue
        with contextlib.suppress(OSError):
            candidate.unlink()
            removed.append(candidate)
            logger.info("Removed %s, left by an export that did not finish", candidate)
    return removed


def glob_escape(name: str) -> str:
    """``name`` with glob wildcards escaped."""
    return "".join(f"[{ch}]" if ch in "*?[" else ch for ch in name)


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, but belongs to someone else
        return True
    return True


def _public_mode(path: Path) -> int:
    try:
        return path.stat().st_mode & 0o777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask
