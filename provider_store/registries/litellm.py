"""LiteLLM's cost map (``model_prices_and_context_window.json``) as a
:class:`~provider_store.registries.entries.Registry`, from a file or a URL the user names.

Entries are grouped into sections by ``litellm_provider``; an entry keyed
``groq/llama-3.1-8b-instant`` of section ``groq`` is model ``llama-3.1-8b-instant``. Fields are
mapped by meaning (:data:`LITELLM_LIMITS`, :data:`LITELLM_PRICES`, :data:`LITELLM_FLAGS`):
``max_input_tokens`` is the input limit, not the context window, so the cost map never fills
``context_length``; the legacy ``max_tokens`` means the output limit in some entries and the
input limit in others, and fills nothing. Prices per token become USD per million tokens; a
price of 0 is kept only where the entry says the model is free (:func:`says_free`), otherwise
it is unknown. An entry ``{"alias_of": KEY}`` is an alias: it takes the metadata of the entry
``KEY`` and says so.

Nothing is kept silently when the file says two things: a key given twice in one JSON object
(seen through ``object_pairs_hook``) or two keys for one model of one section
(``gemini-exp-1206`` and ``gemini/gemini-exp-1206``) are noted; with different values the model
is refused (it fills nothing) rather than the last one winning. A value that is not a usable
number (NaN, Infinity, 1e308, a string) is dropped with a note naming the entry and field.
Every note is one line; ``registries check`` shows them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from provider_store.model_info import ModelInfo, is_iso_date, says_free
from provider_store.registries.attribute import RegistryInput
from provider_store.registries.entries import Registry, RegistryModel, RegistryProvider
from provider_store.registries.json_reader import Duplicated, decode_json
from provider_store.registries.sections import LOCAL_SECTIONS
from provider_store.registries.source_input import (
    MAX_REGISTRY_BYTES,
    RegistryBytes,
    is_url,
    read_registry,
)
from provider_store.registries.values import Notes, per_million, source_name, tokens
from provider_store.rules.limits import DEFAULT_REGISTRY_DEADLINE

__all__ = [
    "LITELLM_FLAGS",
    "LITELLM_LIMITS",
    "LITELLM_PRICES",
    "MAX_BYTES",
    "litellm_input",
    "litellm_version",
    "load_litellm",
    "parse_litellm",
]

MAX_BYTES = MAX_REGISTRY_BYTES
# The cost map's names of the catalog's fields, read here and written by the LiteLLM export
# (:mod:`provider_store.exports.litellm_proxy`): limits in tokens, prices per token.
LITELLM_LIMITS = {"max_input_tokens": "max_input_tokens", "max_output_tokens": "max_output_tokens"}
LITELLM_PRICES = {"input_price": "input_cost_per_token", "output_price": "output_cost_per_token"}
LITELLM_FLAGS = {
    "tools": "supports_function_calling",
    "vision": "supports_vision",
    "reasoning": "supports_reasoning",
}
# Keys of the cost map that describe no model.
_NOT_MODELS = frozenset({"sample_spec"})
_VERSION = re.compile(r"(?<![0-9.])v?(\d+\.\d+\.\d+(?:[.-]?(?:post|dev|rc|a|b)\d+)?)(?![0-9])")


def load_litellm(
    where: str | Path,
    *,
    deadline: float = DEFAULT_REGISTRY_DEADLINE,
    today: date | None = None,
    content: RegistryBytes | None = None,
) -> Registry:
    """The cost map at a path, or at an http(s) URL, read within ``deadline`` seconds and
    :data:`MAX_BYTES` (see :mod:`provider_store.registries.source_input`). ``content``: the
    bytes already read from ``where``."""
    read = content if content is not None else read_registry(where, deadline=deadline)
    return parse_litellm(
        read.body,
        read.location,
        today=today,
        version=litellm_version(where),
        content_hash=read.content_hash,
    )


def litellm_version(where: str | Path) -> str | None:
    """The LiteLLM version a file or URL names (``…-1.110.2.json``, ``…/v1.110.2/…``), or the
    installed ``litellm`` package's version when ``where`` is a file inside it; else None."""
    text = str(where)
    if not is_url(where):
        found = _VERSION.search(Path(text).name)
        return found.group(1) if found else _installed_version(Path(text).expanduser())
    path = urlsplit(text.strip()).path
    for part in reversed(path.split("/")):  # the file name first, then the folders (a tag)
        found = _VERSION.search(part)
        if found:
            return found.group(1)
    return None


def _installed_version(path: Path) -> str | None:
    try:
        import importlib.metadata
        import importlib.util

        spec = importlib.util.find_spec("litellm")
        if spec is None or spec.origin is None:
            return None
        if Path(spec.origin).parent.resolve() != path.resolve().parent:
            return None
        return importlib.metadata.version("litellm")
    except (ImportError, ValueError, OSError, importlib.metadata.PackageNotFoundError):
        return None


def parse_litellm(
    body: bytes,
    location: str,
    *,
    today: date | None = None,
    version: str | None = None,
    content_hash: str = "",
) -> Registry:
    """The cost map's bytes as a Registry; ``location`` names the file or URL in messages."""
    document, duplicates = decode_json(body, location, "a LiteLLM cost map")
    notes = Notes()
    by_section: dict[str, dict[str, RegistryModel]] = {}
    aliases: list[tuple[str, str]] = []
    for key, entry in document.items():
        if key in _NOT_MODELS:
            continue
        conflict = duplicates.get(key)
        if conflict is not None:
            notes.add(conflict)
        if not isinstance(entry, dict):
            notes.add(f"entry {key!r}: not an object; skipped")
            continue
        if "alias_of" in entry:
            target = entry["alias_of"]
            if isinstance(target, str) and target:
                aliases.append((key, target))
            else:
                notes.add(f"entry {key!r}: alias_of is not a key; skipped")
            continue
        section = entry.get("litellm_provider")
        if not isinstance(section, str) or not section:
            continue
        model_id = key[len(section) + 1 :] if key.startswith(f"{section}/") else key
        model = _model(key, model_id, entry, today, notes)
        if conflict is not None and conflict.startswith("conflicting"):
            model = RegistryModel(ModelInfo(id=model_id), key=key, refused=conflict)
        _add(by_section.setdefault(section, {}), model, notes)
    for key, target in aliases:
        _add_alias(document, by_section, key, target, notes)
    providers = {
        name: RegistryProvider(name, frozenset(), models, local=name in LOCAL_SECTIONS)
        for name, models in by_section.items()
    }
    return Registry(
        "litellm",
        source_name("litellm", version, content_hash),
        providers,
        version=version,
        content_hash=content_hash,
        location=location,
        notes=notes.lines(),
    )


def _model(
    key: str, model_id: str, entry: Mapping[str, Any], today: date | None, notes: Notes
) -> RegistryModel:
    if isinstance(entry, Duplicated):
        fields = ", ".join(entry.conflicts)
        note = f"conflicting entries: entry {key!r} gives {fields} twice with different values"
        notes.add(note + "; refused")
        return RegistryModel(ModelInfo(id=model_id), key=key, refused=note)
    zero = any(entry.get(name) == 0 for name in LITELLM_PRICES.values())
    free = zero and says_free(key, model_id)
    where = f"entry {key!r}"
    limits = LITELLM_LIMITS
    prices = LITELLM_PRICES
    info = ModelInfo(
        id=model_id,
        max_input_tokens=tokens(
            entry.get(limits["max_input_tokens"]), where, "max_input_tokens", notes
        ),
        max_output_tokens=tokens(
            entry.get(limits["max_output_tokens"]), where, "max_output_tokens", notes
        ),
        input_price=per_million(
            entry.get(prices["input_price"]), where, prices["input_price"], notes, free=free
        ),
        output_price=per_million(
            entry.get(prices["output_price"]), where, prices["output_price"], notes, free=free
        ),
        capabilities=tuple(
            sorted(flag for flag, name in LITELLM_FLAGS.items() if entry.get(name) is True)
        ),
    )
    when = entry.get("deprecation_date")
    deprecation = when if isinstance(when, str) and is_iso_date(when) else None
    passed = deprecation is not None and date.fromisoformat(deprecation) <= (today or date.today())
    return RegistryModel(info, deprecated=passed, deprecation_date=deprecation, key=key)


def _add(models: dict[str, RegistryModel], model: RegistryModel, notes: Notes) -> None:
    """Add ``model`` to its section; a second entry for the same id is noted, and refused when
    it says something else (so neither wins silently)."""
    earlier = models.get(model.info.id)
    if earlier is None:
        models[model.info.id] = model
        return
    keys = f"{earlier.key!r} and {model.key!r}"
    if earlier.refused is None and model.refused is None and earlier.same_values(model):
        notes.add(f"duplicate entries {keys} for one model, with the same values")
        return
    note = f"conflicting entries {keys} for one model, with different values"
    notes.add(note + "; refused")
    models[model.info.id] = RegistryModel(ModelInfo(id=model.info.id), key=model.key, refused=note)


def _add_alias(
    document: Mapping[str, Any],
    by_section: dict[str, dict[str, RegistryModel]],
    key: str,
    target_key: str,
    notes: Notes,
) -> None:
    """Add the alias entry ``key`` to the section of its target, with the target's metadata."""
    target = document.get(target_key)
    section = target.get("litellm_provider") if isinstance(target, dict) else None
    if not isinstance(section, str) or not section:
        notes.add(f"entry {key!r}: alias_of {target_key!r} names no model entry; skipped")
        return
    models = by_section.get(section, {})
    target_id = (
        target_key[len(section) + 1 :] if target_key.startswith(f"{section}/") else target_key
    )
    found = models.get(target_id)
    if found is None:
        return
    alias_id = key[len(section) + 1 :] if key.startswith(f"{section}/") else key
    info = ModelInfo(
        **{name: getattr(found.info, name) for name in _INFO_FIELDS}, id=alias_id, raw={}
    )
    alias = RegistryModel(
        info,
        deprecated=found.deprecated,
        deprecation_date=found.deprecation_date,
        key=key,
        alias_of=target_id,
        refused=found.refused,
    )
    _add(by_section.setdefault(section, {}), alias, notes)


_INFO_FIELDS = tuple(name for name in ModelInfo.__dataclass_fields__ if name not in ("id", "raw"))


def litellm_input(
    where: str | Path, *, deadline: float = DEFAULT_REGISTRY_DEADLINE
) -> RegistryInput:
    """The cost map at ``where``, read now (within ``deadline`` seconds) and parsed only when
    a fill needs it."""
    content = read_registry(where, deadline=deadline)
    today = date.today()

    def parse() -> Registry:
        key = (content.content_hash, content.location, str(where), today)
        found = _PARSED.get(key)
        if found is None:
            found = load_litellm(where, content=content, today=today)
            _PARSED.clear()  # one cost map at a time: each is tens of megabytes in memory
            _PARSED[key] = found
        return found

    return RegistryInput("litellm", content.content_hash, parse, day=today.isoformat())


# The last cost map parsed (a long-running process re-reads an unchanged one for free).
_PARSED: dict[tuple[str, str, str, date], Registry] = {}
