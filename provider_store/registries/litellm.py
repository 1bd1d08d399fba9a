"""LiteLLM's cost map (``model_prices_and_context_window.json``) as a
:class:`~provider_store.registries.entries.Registry`, from a file or a URL the user names.

Entries are grouped by ``litellm_provider``; an entry keyed ``groq/llama-3.1-8b-instant`` of
provider ``groq`` is model ``llama-3.1-8b-instant``. Prices per token become USD per million
tokens; ``max_input_tokens`` (else ``max_tokens``) is the context length.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

from provider_store.errors import RegistryError
from provider_store.model_info import ModelInfo, is_iso_date
from provider_store.registries.entries import Registry, RegistryModel, RegistryProvider

__all__ = [
    "LITELLM_FLAGS",
    "LITELLM_LIMITS",
    "LITELLM_PRICES",
    "MAX_BYTES",
    "load_litellm",
    "parse_litellm",
]

MAX_BYTES = 64 * 1024 * 1024
# The cost map's names of the catalog's fields, read here and written by the LiteLLM export
# (:mod:`provider_store.exports.litellm_proxy`): limits in tokens, prices per token.
LITELLM_LIMITS = {"context_length": "max_input_tokens", "max_output_tokens": "max_output_tokens"}
LITELLM_PRICES = {"input_price": "input_cost_per_token", "output_price": "output_cost_per_token"}
LITELLM_FLAGS = {
    "tools": "supports_function_calling",
    "vision": "supports_vision",
    "reasoning": "supports_reasoning",
}


def load_litellm(
    where: str | Path, *, timeout: float = 30.0, today: date | None = None
) -> Registry:
    """The cost map at a path, or at an http(s) URL (fetched once, capped at :data:`MAX_BYTES`)."""
    text = str(where)
    if text.startswith(("http://", "https://")):
        return parse_litellm(_fetch(text, timeout), f"litellm {text}", today=today)
    path = Path(text).expanduser()
    try:
        with path.open("rb") as handle:
            body = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        raise RegistryError(f"{path}: cannot read the LiteLLM cost map ({exc.strerror})") from exc
    if len(body) > MAX_BYTES:
        raise RegistryError(f"{path}: larger than {MAX_BYTES} bytes; not a LiteLLM cost map")
    return parse_litellm(body, f"litellm {path.name}", today=today)


def parse_litellm(body: bytes, source: str, *, today: date | None = None) -> Registry:
    """The cost map's bytes as a Registry named ``source``."""
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise RegistryError(f"{source}: not JSON") from exc
    if not isinstance(document, dict):
        raise RegistryError(f"{source}: not a LiteLLM cost map (no mapping of models)")
    by_provider: dict[str, dict[str, RegistryModel]] = {}
    for key, entry in document.items():
        if not isinstance(key, str) or not isinstance(entry, dict):
            continue
        provider = entry.get("litellm_provider")
        if not isinstance(provider, str) or not provider:
            continue
        model_id = key[len(provider) + 1 :] if key.startswith(f"{provider}/") else key
        by_provider.setdefault(provider, {})[model_id] = _model(model_id, entry, today)
    providers = {
        name: RegistryProvider(name, frozenset(), models) for name, models in by_provider.items()
    }
    return Registry("litellm", source, providers)


def _model(model_id: str, entry: Mapping[str, Any], today: date | None) -> RegistryModel:
    info = ModelInfo(
        id=model_id,
        context_length=_tokens(entry.get(LITELLM_LIMITS["context_length"]))
        or _tokens(entry.get("max_tokens")),
        max_output_tokens=_tokens(entry.get(LITELLM_LIMITS["max_output_tokens"])),
        input_price=_per_million(entry.get(LITELLM_PRICES["input_price"])),
        output_price=_per_million(entry.get(LITELLM_PRICES["output_price"])),
        capabilities=tuple(sorted(f for f, key in LITELLM_FLAGS.items() if entry.get(key) is True)),
    )
    when = entry.get("deprecation_date")
    deprecation = when if isinstance(when, str) and is_iso_date(when) else None
    passed = deprecation is not None and date.fromisoformat(deprecation) <= (today or date.today())
    return RegistryModel(info, deprecated=passed, deprecation_date=deprecation)


def _tokens(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        return None
    return int(value)


def _per_million(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        return None
    return round(float(value) * 1_000_000, 9)


def _fetch(url: str, timeout: float) -> bytes:
    import requests

    try:
        with requests.get(url, timeout=timeout, stream=True) as response:
            response.raise_for_status()
            body = response.raw.read(MAX_BYTES + 1, decode_content=True)
    except requests.RequestException as exc:
        raise RegistryError(f"cannot fetch the LiteLLM cost map from {url}: {exc}") from exc
    if len(body) > MAX_BYTES:
        raise RegistryError(f"{url}: larger than {MAX_BYTES} bytes; not a LiteLLM cost map")
    return body
