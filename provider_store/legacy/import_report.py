"""What a legacy YAML import changes: :class:`ImportReport` and its :class:`ProviderChange` rows."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

ChangeAction = Literal["added", "removed", "changed"]


@dataclass(slots=True)
class ProviderChange:
    """What an import does to one provider. ``fields`` never carries values (keys are secret).

    ``action`` is ``"added"``, ``"removed"`` or ``"changed"``. ``discovered_models_removed`` are
    the ``models_removed`` that discovery had listed or validated: the import takes them out of
    the curated lists (they stay as unverified models, with their sightings and verdicts).
    """

    key: str
    action: ChangeAction
    fields: list[str] = field(default_factory=list)
    models_added: list[str] = field(default_factory=list)
    models_removed: list[str] = field(default_factory=list)
    models_changed: list[str] = field(default_factory=list)
    discovered_models_removed: list[str] = field(default_factory=list)


@dataclass(slots=True)
class ImportReport:
    """The changes an import made (or, with ``dry_run``, would make)."""

    path: str
    replace: bool
    dry_run: bool
    providers: list[ProviderChange] = field(default_factory=list)
    top_level_keys_changed: list[str] = field(default_factory=list)
    providers_in_file: int = 0
    models_in_file: int = 0

    def _keys(self, action: ChangeAction) -> list[str]:
        return [change.key for change in self.providers if change.action == action]

    @property
    def providers_added(self) -> list[str]:
        """Keys of providers that are new to the store."""
        return self._keys("added")

    @property
    def providers_removed(self) -> list[str]:
        """Keys of providers deleted (replace mode only)."""
        return self._keys("removed")

    @property
    def providers_changed(self) -> list[str]:
        """Keys of existing providers whose fields or models changed."""
        return self._keys("changed")

    @property
    def discovered_models_removed(self) -> dict[str, list[str]]:
        """Provider key -> curated models discovery had listed or validated that the import
        takes away (only providers that lose some)."""
        return {c.key: c.discovered_models_removed for c in self.providers
                if c.discovered_models_removed}  # fmt: skip

    @property
    def changed(self) -> bool:
        """Whether the import changes anything at all."""
        return bool(self.providers or self.top_level_keys_changed)

    def counts(self) -> dict[str, int]:
        """Totals for a one-line summary."""
        return {
            "providers_added": len(self.providers_added),
            "providers_removed": len(self.providers_removed),
            "providers_changed": len(self.providers_changed),
            "models_added": sum(len(c.models_added) for c in self.providers),
            "models_removed": sum(len(c.models_removed) for c in self.providers),
            "models_changed": sum(len(c.models_changed) for c in self.providers),
            "discovered_models_removed": sum(
                len(c.discovered_models_removed) for c in self.providers
            ),
        }

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form of the report."""
        return {
            "path": self.path,
            "replace": self.replace,
            "dry_run": self.dry_run,
            "changed": self.changed,
            "counts": self.counts(),
            "providers": [asdict(change) for change in self.providers],
            "top_level_keys_changed": list(self.top_level_keys_changed),
        }
