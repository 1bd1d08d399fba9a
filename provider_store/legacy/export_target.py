"""Where an export may be written: a regular file, or a path where nothing is yet.

An export is written to a temporary file that is then renamed over its target, so the target's
directory entry is replaced. That is right for a regular file and wrong for anything else: a
device node (``/dev/null``), a FIFO, a socket or a directory would be replaced by a regular file
(one holding API keys, for the legacy format), and a symbolic link by a file instead of the file
it points at. :func:`check_export_target` refuses them all, before anything is written, and
leaves them as they were; standard output (``-``) is the CLI's way to write into a pipe.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from provider_store.errors import InvalidDocumentError
from provider_store.legacy.safe_yaml import file_kind

__all__ = ["check_export_target"]


def check_export_target(path: str | Path) -> None:
    """Refuse (InvalidDocumentError naming ``path``) a target that exists and is not a regular
    file; a missing target is fine (it is created), a missing directory is refused by the write.
    """
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise InvalidDocumentError(f"cannot write: {exc.strerror or exc}", path=str(path)) from exc
    if stat.S_ISREG(info.st_mode):
        return
    raise InvalidDocumentError(
        f"not a regular file ({file_kind(info.st_mode)}); an export is written to a regular file"
        " or to standard output ('-'), and this was left as it was",
        path=str(path),
    )
