"""Reconciling the sources of a model's metadata: which value wins, and why, when they differ.

The order of trust is the user's override, then the provider's own list, then the registries.
Between the registries the order is decided **per provider**: a registry whose values agree
with the provider's own listed values (for that provider's models, on the limits and prices
that the list and every registry give) ranks above one that agrees less; when they agree
equally, or the list gives nothing to compare, the default order stands (LiteLLM, then
models.dev: :data:`REGISTRY_ORIGINS`). :func:`registry_order` says which order and why.

:func:`reconcile` applies it to one model: for every field, every candidate value (by origin,
in rank order), the chosen one, the candidates that disagree with it (numbers more than
:data:`DISAGREEMENT_RATIO` apart, or different reasoning/tools/vision flags) and, when any
does, the reason the chosen one won. A price of 0 is a candidate only where it means "free": the
user set it, or the model's id or name says it is free (:func:`~provider_store.model_info.
says_free`); any other 0 is unknown, not free.

Pure functions over plain values (no database), so every face of the catalog ranks alike.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from provider_store.model_info import PRICE_FIELDS, says_free

__all__ = [
    "COMPARED_FIELDS",
    "DISAGREEMENT_RATIO",
    "NUMBER_FIELDS",
    "REGISTRY_ORIGINS",
    "FieldChoice",
    "RegistryOrder",
    "Candidate",
    "differ",
    "reconcile",
    "registry_order",
    "usable",
]

LISTED = "listed"
USER = "user"
# The registries in their default order of trust, most trusted first.
REGISTRY_ORIGINS = ("litellm", "models.dev")
NUMBER_FIELDS = (
    "context_length",
    "max_input_tokens",
    "max_output_tokens",
    "input_price",
    "output_price",
)
FLAGS = ("reasoning", "tools", "vision")
# The fields whose disagreements are reported: the numbers, and the capability flags.
COMPARED_FIELDS = (*NUMBER_FIELDS, "capabilities")
# Numbers further apart than this (relative to the larger) disagree.
DISAGREEMENT_RATIO = 0.05


@dataclass(frozen=True, slots=True)
class Candidate:
    """A candidate value: its origin (``user``, ``listed``, a registry family), the exact
    source (``models.dev 1.0.398``), the value and when it was observed (last confirmed)."""

    origin: str
    source: str
    value: Any
    observed_at: float | None = None


@dataclass(frozen=True, slots=True)
class RegistryOrder:
    """The registries of one provider, most trusted first, and why in this order."""

    origins: tuple[str, ...] = REGISTRY_ORIGINS
    reason: str = "the default order of trust (LiteLLM, then models.dev)"
    agreement: Mapping[str, tuple[int, int]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class FieldChoice:
    """One field of one model: every candidate in rank order (the chosen one first), those that
    disagree with the chosen one, and why it won when some do (None otherwise)."""

    field: str
    candidates: tuple[Candidate, ...]
    disagreeing: tuple[Candidate, ...] = ()
    reason: str | None = None

    @property
    def chosen(self) -> Candidate:
        """The value every face of the catalog shows."""
        return self.candidates[0]


def differ(field_name: str, a: Any, b: Any) -> bool:
    """True when two values of ``field_name`` disagree: numbers more than
    :data:`DISAGREEMENT_RATIO` apart, capability lists with different flags (reasoning, tools,
    vision); other fields never disagree here."""
    if field_name == "capabilities":
        return {f for f in FLAGS if f in (a or ())} != {f for f in FLAGS if f in (b or ())}
    if field_name not in NUMBER_FIELDS:
        return False
    try:
        high = max(abs(float(a)), abs(float(b)))
        return high > 0 and abs(float(a) - float(b)) / high > DISAGREEMENT_RATIO
    except (TypeError, ValueError):
        return bool(a != b)


def usable(field_name: str, value: Any, origin: str, names: Sequence[str | None]) -> bool:
    """Whether a value is a candidate at all: known (not None or empty), and for a price of 0,
    said to be free (by the user, or by the model's id or name in ``names``)."""
    if value is None or value == [] or value == ():
        return False
    if field_name in PRICE_FIELDS and value == 0 and origin != USER:
        return says_free(*names)
    return True


def registry_order(
    provider_key: str,
    listed: Mapping[str, Mapping[str, Any]],
    facts: Mapping[str, Mapping[str, Mapping[str, Candidate]]],
    sources: Mapping[str, str] | None = None,
) -> RegistryOrder:
    """The order of the registries for provider ``provider_key``: by how many of its listed
    values each agrees with, where the list and every registry give a value; ties (and no
    values to compare) keep :data:`REGISTRY_ORIGINS`.

    ``listed`` is model id -> field -> the listed value; ``facts`` model id -> field -> origin
    -> value; ``sources`` names each origin in reasons (default: the origin itself).
    """
    present = [
        origin
        for origin in REGISTRY_ORIGINS
        if any(origin in by_origin for fields in facts.values() for by_origin in fields.values())
    ]
    if len(present) < 2:
        return RegistryOrder()
    agreeing = dict.fromkeys(present, 0)
    compared = 0
    for model_id, fields in facts.items():
        own = listed.get(model_id, {})
        for name in NUMBER_FIELDS:
            value = own.get(name)
            if value is None or not usable(name, value, LISTED, (model_id,)):
                continue
            given = {origin: fields.get(name, {}).get(origin) for origin in present}
            if any(candidate is None for candidate in given.values()):
                continue
            compared += 1
            for origin, candidate in given.items():
                assert candidate is not None
                agreeing[origin] += not differ(name, value, candidate.value)
    counts = {origin: (agreeing[origin], compared) for origin in present}
    ranked = tuple(sorted(present, key=lambda o: (-agreeing[o], REGISTRY_ORIGINS.index(o))))
    names = sources or {}
    if compared == 0 or len({agreeing[o] for o in present}) == 1:
        tie = (
            f"; they agree equally with {provider_key}'s own list ({agreeing[present[0]]} of"
            f" {compared} values)"
            if compared
            else ""
        )
        return RegistryOrder(
            ranked, f"the default order of trust (LiteLLM, then models.dev){tie}", counts
        )
    first, *rest = ranked
    others = ", ".join(f"{names.get(o, o)} on {agreeing[o]}" for o in rest)
    reason = (
        f"{names.get(first, first)} agrees with {provider_key}'s own list on {agreeing[first]}"
        f" of {compared} values, {others}"
    )
    return RegistryOrder(ranked, reason, counts)


def reconcile(
    model_id: str,
    candidates: Mapping[str, Sequence[Candidate]],
    order: RegistryOrder,
) -> dict[str, FieldChoice]:
    """Every field of one model with at least one usable candidate: its candidates ranked
    (user, listed, then the registries in ``order``), the chosen one first, and the reason when
    others disagree. ``candidates`` is field -> every value any origin gave."""
    names: list[str | None] = [model_id]
    for value in candidates.get("display_name", ()):
        names.append(value.value if isinstance(value.value, str) else None)
    rank = {origin: i for i, origin in enumerate((USER, LISTED, *order.origins))}
    choices: dict[str, FieldChoice] = {}
    for name, values in candidates.items():
        kept = [v for v in values if usable(name, v.value, v.origin, names)]
        if not kept:
            continue
        kept.sort(key=lambda v: rank.get(v.origin, len(rank)))
        chosen = kept[0]
        disagreeing = tuple(v for v in kept[1:] if differ(name, chosen.value, v.value))
        reason = _why(chosen, order) if disagreeing else None
        choices[name] = FieldChoice(name, tuple(kept), disagreeing, reason)
    return choices


def _why(chosen: Candidate, order: RegistryOrder) -> str:
    if chosen.origin == USER:
        return "your own value (models set) wins over every source"
    if chosen.origin == LISTED:
        return "the provider's own list wins over the registries"
    return f"{chosen.source} ranks first: {order.reason}"
