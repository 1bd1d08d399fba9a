"""How ``models show`` says a model's reconciled metadata: each value with its source, the other
sources' values where they disagree and why one won, the registries' matches and the alias.

Reads a :class:`~provider_store.catalog.model_facts.SourcedMetadata` (computed by the library);
nothing here decides a value.
"""

from __future__ import annotations

from typing import Any

from provider_store import Candidate, SourcedMetadata
from provider_store.cli.text import iso_time
from provider_store.model_info import METADATA_FIELDS, metadata_field

__all__ = ["metadata_json", "metadata_lines"]


def _plain(field: str, value: Any) -> Any:
    described = metadata_field(field)
    if described is None:
        return value
    return described.to_plain(described.from_column(value))


def _shown(field: str, value: Any) -> str:
    described = metadata_field(field)
    if described is None:
        return str(value)
    return described.shown(described.from_column(value))


def _candidate(field: str, value: Candidate) -> dict[str, Any]:
    return {
        "value": _plain(field, value.value),
        "source": value.source,
        "observed_at": iso_time(value.observed_at),
    }


def metadata_json(sourced: SourcedMetadata) -> dict[str, Any]:
    """The metadata keys of ``models show --json``: every field's chosen value (null when no
    source knows it), ``sources``, every candidate per field (``candidates``), the fields
    whose sources disagree with the value used and why (``disagreements``), the registries'
    matches (entry, section, how) and the alias."""
    data: dict[str, Any] = {
        f.name: _plain(f.name, sourced.values[f.name].value) if f.name in sourced.values else None
        for f in METADATA_FIELDS
    }
    data["sources"] = {
        name: {"source": s.source, "observed_at": iso_time(s.observed_at)}
        for name, s in sourced.values.items()
    }
    data["candidates"] = {
        name: [_candidate(name, value) for value in choice.candidates]
        for name, choice in sourced.choices.items()
    }
    data["disagreements"] = {
        name: {
            "used": _candidate(name, choice.chosen),
            "others": [_candidate(name, value) for value in choice.disagreeing],
            "reason": choice.reason,
        }
        for name, choice in sourced.choices.items()
        if choice.disagreeing
    }
    data["registry_matches"] = {origin: dict(note) for origin, note in sourced.match_notes.items()}
    data["alias_of"] = (
        {"model": sourced.alias_of.value, "source": sourced.alias_of.source}
        if sourced.alias_of is not None
        else None
    )
    data["moving_alias"] = sourced.moving_alias
    return data


def metadata_lines(sourced: SourcedMetadata) -> list[tuple[str, str]]:
    """``models show``'s lines for the metadata: ``field  value  (source)``, then, where other
    sources disagree, ``  differs: value (source); used: why``; then the alias and matches."""
    lines: list[tuple[str, str]] = []
    for f in METADATA_FIELDS:
        choice = sourced.choices.get(f.name)
        if choice is None:
            lines.append((f.name, "-"))
            continue
        chosen = choice.chosen
        lines.append((f.name, f"{_shown(f.name, chosen.value)}  ({chosen.source})"))
        if choice.disagreeing:
            others = "; ".join(
                f"{_shown(f.name, value.value)} ({value.source})" for value in choice.disagreeing
            )
            lines.append(("", f"  also {others}: {choice.reason}"))
    if sourced.alias_of is not None:
        lines.append(("alias_of", f"{sourced.alias_of.value}  ({sourced.alias_of.source})"))
    elif sourced.moving_alias:
        lines.append(("alias_of", "a moving alias; no source says which model it points at now"))
    for origin, words in sorted(sourced.matches.items()):
        lines.append((origin, words))
    return lines
