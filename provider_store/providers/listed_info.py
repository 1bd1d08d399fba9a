"""One listed model item -> :class:`~provider_store.model_info.ModelInfo`, whatever its provider.

Providers describe their models with different field names and units. This module reads the
*patterns* rather than a list of providers, so that a service nobody has looked at yet is read
as long as it uses one of the common spellings:

- the item itself and its common sub-objects are searched in order: the item, ``metadata``,
  ``meta``, ``top_provider``, ``architecture``, ``limits``, ``info``;
- display name: ``display_name`` / ``displayName`` / ``name`` (``name`` only when it is not the
  id itself, as it is for Gemini, Cohere or Mistral);
- created: ``created`` / ``created_at`` / ``createdAt`` as epoch seconds (milliseconds are
  recognised) or an ISO 8601 date; ``0`` means unknown;
- context length: ``context_length``, ``context_window``, ``max_context_length``,
  ``max_model_len`` (vLLM), ``inputTokenLimit`` (Gemini), ``max_input_tokens`` (Anthropic),
  ``n_ctx`` / ``n_ctx_train`` (llama.cpp), ...;
- max output tokens: ``max_output_tokens``, ``max_completion_tokens``, ``max_output_length``,
  ``outputTokenLimit``, ``max_tokens``, ...;
- prices, always returned in USD per million tokens: ``pricing.prompt`` / ``.completion`` are per
  token (OpenRouter, Groq, Baseten: strings) and are multiplied by 1,000,000;
  ``pricing.input`` / ``.output`` and ``input_tokens`` / ``output_tokens`` are already per million
  (Together, DeepInfra); xAI's ``prompt_text_token_price`` is in USD cents per 100 million tokens;
  a negative price (OpenRouter's ``"-1"`` for routers) means unknown;
- modalities: ``input_modalities`` / ``output_modalities`` lists (also
  ``supported_input_modalities``), or an ``architecture.modality`` string ``"text+image->text"``;
- capabilities, a sorted tuple of lowercase names with common synonyms folded together
  (``function_calling`` / ``tool-calling`` / ``trained_for_tool_use`` -> ``tools``,
  ``image_input`` -> ``vision``, ``thinking`` -> ``reasoning``, ``completion_chat`` -> ``chat``):
  from a ``capabilities`` list or mapping of flags (Mistral's booleans, Anthropic's
  ``{"supported": true}``), ``supported_features``, the ``tools`` / ``reasoning`` /
  ``response_format`` entries of OpenRouter's ``supported_parameters``, ``supports_*`` flags
  (Fireworks), Gemini's ``thinking`` flag and ``supportedGenerationMethods``, and a ``type``
  such as ``chat`` or ``embedding`` (Together, LM Studio). A model that takes images as input has
  ``vision``.

Anything of the wrong type or out of range becomes ``None`` (or is left out of a tuple): a
provider answering garbage never makes this raise.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from provider_store.model_info import ModelInfo
from provider_store.rules import (
    MAX_EPOCH,
    MAX_NAME_LENGTH,
    MAX_NAMES,
    MAX_PRICE,
    MAX_TEXT_LENGTH,
    MAX_TOKENS,
)

__all__ = ["model_info", "model_infos"]

_NESTED = ("metadata", "meta", "top_provider", "architecture", "limits", "info")
_ID_KEYS = ("id", "model_id", "key", "name", "model")
_NAME_KEYS = ("display_name", "displayName", "name")
_CREATED_KEYS = ("created", "created_at", "createdAt", "created_on")
_CONTEXT_KEYS = (
    "context_length",
    "context_window",
    "contextWindow",
    "contextLength",
    "max_context_length",
    "max_model_len",
    "inputTokenLimit",
    "input_token_limit",
    "max_input_tokens",
    "max_context_tokens",
    "context_size",
    "n_ctx",
    "n_ctx_train",
)
_OUTPUT_KEYS = (
    "max_output_tokens",
    "maxOutputTokens",
    "max_completion_tokens",
    "max_output_length",
    "outputTokenLimit",
    "output_token_limit",
    "max_tokens",
)
# (key, factor to USD per million tokens), tried in order, in every pricing mapping.
_INPUT_PRICE_KEYS = (
    ("prompt", 1_000_000.0),
    ("input", 1.0),
    ("input_tokens", 1.0),
    ("input_per_million", 1.0),
    ("prompt_text_token_price", 1e-4),
)
_OUTPUT_PRICE_KEYS = (
    ("completion", 1_000_000.0),
    ("output", 1.0),
    ("output_tokens", 1.0),
    ("output_per_million", 1.0),
    ("completion_text_token_price", 1e-4),
)
_PRICING_KEYS = ("pricing", "price", "prices")

# Folded capability names: every spelling on the left is reported as the name on the right.
_SYNONYMS = {
    "function_calling": "tools",
    "function_call": "tools",
    "functions": "tools",
    "tool_calling": "tools",
    "tool_use": "tools",
    "tool_choice": "tools",
    "trained_for_tool_use": "tools",
    "tools": "tools",
    "image_input": "vision",
    "image": "vision",
    "images": "vision",
    "vision": "vision",
    "vlm": "vision",
    "thinking": "reasoning",
    "reasoning": "reasoning",
    "include_reasoning": "reasoning",
    "reasoning_effort": "reasoning",
    "completion_chat": "chat",
    "chat": "chat",
    "chat_completion": "chat",
    "chat_completions": "chat",
    "generatecontent": "chat",
    "llm": "chat",
    "json_mode": "json_mode",
    "response_format": "json_mode",
    "json_output": "json_mode",
    "structured_outputs": "structured_outputs",
    "structured_output": "structured_outputs",
    "embedding": "embeddings",
    "embeddings": "embeddings",
    "embedcontent": "embeddings",
    "embed": "embeddings",
}
# supported_parameters lists request parameters; only these say something about capabilities.
_PARAMETER_CAPABILITIES = {
    "tools": "tools",
    "tool_choice": "tools",
    "functions": "tools",
    "reasoning": "reasoning",
    "include_reasoning": "reasoning",
    "reasoning_effort": "reasoning",
    "response_format": "json_mode",
    "structured_outputs": "structured_outputs",
}
_MAX_TOKEN_NAME = MAX_NAME_LENGTH
_ISO_LIKE = re.compile(r"^\d{4}-\d{2}-\d{2}")
_NON_WORD = re.compile(r"[^a-z0-9]+")


def model_info(item: Mapping[str, Any]) -> ModelInfo:
    """The metadata a provider listed for one model, in ModelInfo's units; never raises."""
    if not isinstance(item, Mapping):
        return ModelInfo(id="")
    views = list(_views(item))
    model_id = _model_id(item)
    input_modalities = _modalities(views, "input")
    output_modalities = _modalities(views, "output")
    capabilities = set(_capabilities(views))
    if "image" in input_modalities:
        capabilities.add("vision")
    pricing = list(_pricing_maps(views))
    return ModelInfo(
        id=model_id,
        display_name=_display_name(item, model_id),
        created=_first(views, _CREATED_KEYS, _epoch_seconds),
        context_length=_first(views, _CONTEXT_KEYS, _count),
        max_output_tokens=_first(views, _OUTPUT_KEYS, _count),
        input_price=_price(pricing, _INPUT_PRICE_KEYS),
        output_price=_price(pricing, _OUTPUT_PRICE_KEYS),
        input_modalities=input_modalities[:MAX_NAMES],
        output_modalities=output_modalities[:MAX_NAMES],
        capabilities=tuple(sorted(capabilities))[:MAX_NAMES],
        raw=dict(item),
    )


def model_infos(items: Iterable[Any]) -> list[ModelInfo]:
    """:func:`model_info` of every mapping in ``items`` that has an id, in order."""
    infos = (model_info(item) for item in items if isinstance(item, Mapping))
    return [info for info in infos if info.id]


# -- where to look ----------------------------------------------------------------------------


def _views(item: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    """The item, then its common sub-objects that are mappings."""
    yield item
    for key in _NESTED:
        nested = item.get(key)
        if isinstance(nested, Mapping):
            yield nested


def _first(views: list[Mapping[str, Any]], keys: Iterable[str], parse: Any) -> Any:
    for view in views:
        for key in keys:
            if key in view:
                value = parse(view[key])
                if value is not None:
                    return value
    return None


# -- fields -------------------------------------------------------------------------------------


def _model_id(item: Mapping[str, Any]) -> str:
    for key in _ID_KEYS:
        value = item.get(key)
        if isinstance(value, str) and value.strip():
            value = value.strip()
            return value[len("models/") :] if value.startswith("models/") else value
    return ""


def _display_name(item: Mapping[str, Any], model_id: str) -> str | None:
    for key in _NAME_KEYS:
        value = item.get(key)
        if not isinstance(value, str):
            continue
        text = " ".join(value.split())
        if not text or text in (model_id, f"models/{model_id}") or text == "<string>":
            continue
        return text[:MAX_TEXT_LENGTH]
    return None


def _count(value: Any) -> int | None:
    """A positive token count (int, float with no fraction, or a digit string)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        value = value.strip().replace("_", "")
        if not value.isdigit():
            return None
        value = int(value)
    if isinstance(value, float):
        if not math.isfinite(value) or not value.is_integer():
            return None
        value = int(value)
    if isinstance(value, int) and 0 < value <= MAX_TOKENS:
        return value
    return None


def _number(value: Any) -> float | None:
    """A finite float from a number or a numeric string (``"0.000003"``)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            return None
    if isinstance(value, int):
        value = float(value)
    if isinstance(value, float) and math.isfinite(value):
        return value
    return None


def _epoch_seconds(value: Any) -> int | None:
    """Epoch seconds from seconds, milliseconds or an ISO 8601 date; 0 and garbage are None."""
    if isinstance(value, str):
        text = value.strip()
        if _ISO_LIKE.match(text):
            return _iso_seconds(text)
    number = _number(value)
    if number is None or number <= 0:
        return None
    if number > 1e11:  # milliseconds (1e11 s is the year 5138)
        number /= 1000.0
    seconds = int(number)
    return seconds if 0 < seconds <= MAX_EPOCH else None


def _iso_seconds(text: str) -> int | None:
    text = text.replace(" ", "T", 1)
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        seconds = int(parsed.timestamp())
    except (OverflowError, OSError, ValueError):
        return None
    return seconds if 0 < seconds <= MAX_EPOCH else None


def _pricing_maps(views: list[Mapping[str, Any]]) -> Iterator[Mapping[str, Any]]:
    for view in views:
        for key in _PRICING_KEYS:
            value = view.get(key)
            if isinstance(value, Mapping):
                yield value
    yield views[0]  # prices kept at the top level (xAI's language-models list)


def _price(maps: list[Mapping[str, Any]], keys: Iterable[tuple[str, float]]) -> float | None:
    for mapping in maps:
        for key, factor in keys:
            if key not in mapping:
                continue
            if mapping is maps[-1] and factor != 1e-4:
                continue  # at the top level only the explicitly named price fields count
            number = _number(mapping[key])
            if number is None or number < 0:
                continue
            price = round(number * factor, 9)
            return price if price <= MAX_PRICE else None
    return None


def _modalities(views: list[Mapping[str, Any]], direction: str) -> tuple[str, ...]:
    for view in views:
        for key in (f"{direction}_modalities", f"supported_{direction}_modalities"):
            names = _names(view.get(key))
            if names:
                return tuple(sorted(set(names)))
        nested = view.get("modalities")
        if isinstance(nested, Mapping):
            names = _names(nested.get(direction))
            if names:
                return tuple(sorted(set(names)))
    for view in views:
        modality = view.get("modality")
        if isinstance(modality, str) and "->" in modality:
            side = modality.split("->", 1)[0 if direction == "input" else 1]
            names = _names(side.split("+"))
            if names:
                return tuple(sorted(set(names)))
    return ()


def _capabilities(views: list[Mapping[str, Any]]) -> Iterator[str]:
    item = views[0]
    for view in views:
        yield from _flag_names(view.get("capabilities"))
        yield from (_fold(n) for n in _names(view.get("supported_features")))
        for name in _names(view.get("supported_parameters")):
            if name in _PARAMETER_CAPABILITIES:
                yield _PARAMETER_CAPABILITIES[name]
        for key, value in view.items():
            if isinstance(key, str) and key.startswith("supports_") and value is True:
                name = _token(key[len("supports_") :])
                if name:
                    yield _fold(name)
    if item.get("thinking") is True:
        yield "reasoning"
    for method in _names(item.get("supportedGenerationMethods")):
        if method in ("generatecontent", "embedcontent"):
            yield _fold(method)
    kind = item.get("type")
    if isinstance(kind, str):
        name = _token(kind)
        if name in ("chat", "llm", "vlm", "embedding", "embeddings"):
            yield _fold(name)
            if name == "vlm":
                yield "chat"


def _flag_names(value: Any) -> Iterator[str]:
    """Names from a list of names or a mapping of flags (true, or ``{"supported": true}``)."""
    if isinstance(value, Mapping):
        for key, flag in value.items():
            if not isinstance(key, str) or not _enabled(flag):
                continue
            name = _token(key)
            if name:
                yield _fold(name)
        return
    yield from (_fold(name) for name in _names(value))


def _enabled(flag: Any) -> bool:
    if isinstance(flag, bool):
        return flag
    if isinstance(flag, Mapping):
        supported = flag.get("supported")
        return supported is True if "supported" in flag else bool(flag)
    return False


def _names(value: Any) -> list[str]:
    """Normalised names of a list of strings; anything else gives none."""
    if not isinstance(value, list | tuple):
        return []
    names = (_token(v) for v in value if isinstance(v, str))
    return [n for n in names if n]


def _token(text: str) -> str:
    token = _NON_WORD.sub("_", text.strip().lower()).strip("_")
    return token if len(token) <= _MAX_TOKEN_NAME else ""


def _fold(name: str) -> str:
    return _SYNONYMS.get(name, name)
