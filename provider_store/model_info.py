"""``ModelInfo``: what a provider's model list says about one model, in one typed shape.

A leaf module shared by every wing: ``providers/`` builds ModelInfo values from listed items,
``catalog/`` stores their fields as model columns, the face and the CLI show them. Units are
fixed here so every provider kind converts to them: prices in USD per million tokens, ``created``
in epoch seconds, lengths in tokens. ``None`` (or an empty tuple) means the provider did not say.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ModelInfo"]


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """One listed model: its id plus the metadata its provider listed (None when unknown)."""

    id: str
    display_name: str | None = None
    created: int | None = None
    context_length: int | None = None
    max_output_tokens: int | None = None
    input_price: float | None = None
    output_price: float | None = None
    input_modalities: tuple[str, ...] = ()
    output_modalities: tuple[str, ...] = ()
    capabilities: tuple[str, ...] = ()
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)
