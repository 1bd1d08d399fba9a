"""The legacy class's own YAML file, ``~/.llm_chat_cli/openaicompat-providers.yaml``, written from
in-memory provider configs (a store is exported by :mod:`provider_store.legacy.exporter`).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path

from provider_store.errors import InvalidDocumentError
from provider_store.legacy.document import dump_data
from provider_store.legacy.exporter import write_atomic
from provider_store.provider_config import ProviderConfig

logger = logging.getLogger(__name__)

# Where the legacy class kept its YAML file: DATA_DIRECTORY/FILE_NAME.
LEGACY_DATA_DIRECTORY = "~/.llm_chat_cli"
LEGACY_FILE_NAME = "openaicompat-providers.yaml"


def write_provider_file(
    configs: Mapping[str, ProviderConfig], data_directory: str | Path | None = None
) -> Path:
    """Write ``configs`` as the legacy YAML file ``openaicompat-providers.yaml``; return its path.

    The file goes in ``data_directory`` (default ``~/.llm_chat_cli``, created when missing),
    with the legacy fields in the legacy order, written atomically; mode 0600 when it holds
    an API key. A file that cannot be written raises :class:`InvalidDocumentError` naming it.
    """
    directory = Path(os.path.expanduser(str(data_directory or LEGACY_DATA_DIRECTORY)))
    path = directory / LEGACY_FILE_NAME
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InvalidDocumentError(f"cannot write: {exc.strerror or exc}", path=path) from exc
    providers = {
        key: {
            "name": config.name,
            "base_api_url": config.base_api_url,
            "api_key": config.api_key,
            "valid_models": dict(config.valid_models),
            "invalid_models": list(config.invalid_models),
        }
        for key, config in configs.items()
    }
    private = any(config.api_key for config in configs.values())
    write_atomic(path, dump_data({"providers": providers}), private=private)
    logger.info("Wrote %d provider configs to %s", len(providers), path)
    return path
