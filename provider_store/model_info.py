"""``ModelInfo`` and the one description of the model metadata fields.

A leaf module shared by every wing: ``providers/`` builds ModelInfo values from listed items,
``catalog/`` stores their fields as model columns, ``legacy/`` writes and reads them as a
provider's ``model_metadata`` in the YAML, the CLI shows them. ``None`` (or an empty tuple) means
the provider did not say.

**The description.** Each metadata attribute of :class:`ModelInfo` is declared with
:func:`_described`, which gives it a :class:`MetadataKind` (its Python type, unit, column type,
how a YAML value is checked, how the CLI shows it) and a one-line meaning. :data:`METADATA_FIELDS`
lists them as :class:`MetadataField` values, in declaration order, and every consumer iterates it:

- the field's name is its ``model`` column, its YAML key under ``model_metadata`` and its key in
  ``models show --json`` (and ``models list --json`` when ``in_list`` is set);
- ``catalog/metadata_columns.py`` converts with :meth:`MetadataField.to_column` /
  :meth:`~MetadataField.from_column`;
- ``legacy/document.py`` checks a YAML value with :meth:`MetadataField.problem` and
  ``legacy/metadata_section.py`` converts with :meth:`~MetadataField.to_plain` /
  :meth:`~MetadataField.from_plain`;
- ``cli/models.py`` prints :meth:`MetadataField.to_plain` (``--json``) or
  :meth:`MetadataField.shown` (text).

**Adding a metadata field** is one line in :class:`ModelInfo` (``name: type = _described(KIND,
"meaning")``) plus an Alembic migration that adds the column, and the same column on
``catalog.tables.Model`` (SQLModel needs its columns declared statically);
``tests/test_metadata_fields.py`` fails until the column, the migrated schema, the YAML round
trip and the CLI agree with the entry. Nothing else lists the fields. A new *kind* of value
(a date, a boolean) is a new :class:`MetadataKind` subclass here.

Why this module is long: the kinds, the field declarations and the rules every reader applies
to a value (what a free price is, what names a moving alias) are one description, read by
every wing; split, they would drift apart.

**Comparing and attributing values.** :func:`changed_fields` compares two ModelInfo values field
by field (what a change history records); per-field provenance (``user`` > ``listed`` >
registry, and when a value was observed) can be keyed by :attr:`MetadataField.name` while
iterating :data:`METADATA_FIELDS`, without a second list of fields.

Units are fixed here so every provider kind converts to them: prices in USD per million tokens,
``created`` in epoch seconds, lengths in tokens.
"""

from __future__ import annotations

import dataclasses
import math
import re
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, ClassVar

from provider_store.rules import (
    MAX_EPOCH,
    MAX_NAME_LENGTH,
    MAX_NAMES,
    MAX_PRICE,
    MAX_TEXT_LENGTH,
    MAX_TOKENS,
    UNSTORABLE,
    UNSTORABLE_REASON,
)

__all__ = [
    "CAPABILITY_NAMES",
    "METADATA_FIELDS",
    "PRICE_FIELDS",
    "FieldChange",
    "MetadataField",
    "MetadataKind",
    "ModelInfo",
    "changed_fields",
    "is_iso_date",
    "is_moving_alias",
    "listed_alias_targets",
    "metadata_field",
    "says_free",
]

# The length of a stored listed display name (the ``model.display_name`` column).
_MAX_TEXT = MAX_TEXT_LENGTH

# The capability names the catalog knows: providers' and registries' spellings are folded into
# these (``function_calling`` is ``tools``), and the CLI's ``--capability`` takes only these.
CAPABILITY_NAMES = (
    "chat",
    "embeddings",
    "json_mode",
    "reasoning",
    "structured_outputs",
    "tools",
    "vision",
)


class MetadataKind(ABC):
    """One kind of metadata value: its types in each place, its unit, its check, its display.

    Three shapes of a value: the *model* value (a :class:`ModelInfo` attribute), the *column*
    value (what the ``model`` table holds) and the *plain* value (YAML and JSON: ``None`` when
    unknown). Subclasses override the conversions that differ from the identity.
    """

    name: ClassVar[str]
    # The annotation of the ModelInfo attribute (its empty value is ``None`` unless overridden).
    python_type: ClassVar[object]
    unit: ClassVar[str | None] = None
    # The column's SQL type: "string" (VARCHAR(max_length)), "integer", "float" or "json".
    column_type: ClassVar[str]
    max_length: ClassVar[int | None] = None
    # What a YAML value must be, as said in an error ("a whole number >= 0").
    expected: ClassVar[str]
    empty: ClassVar[Any] = None

    @abstractmethod
    def accepts(self, plain: Any) -> bool:
        """Whether a (non-null) YAML value has this kind's type and range."""

    def problem(self, plain: Any, found: str) -> str | None:
        """Why a YAML value is refused (``found`` names what it is, e.g. "a string"), or None.

        The same check for every door: YAML import, ``models set``, provider lists and
        registries (each keeps to the limits of :mod:`provider_store.rules.limits`).
        """
        if plain is None:
            return None
        if not self.accepts(plain):
            return f"must be {self.expected}, not {found}"
        if self.max_length is not None and len(plain) > self.max_length:
            return f"longer than {self.max_length} characters"
        if isinstance(plain, str) and UNSTORABLE.search(plain):
            return UNSTORABLE_REASON
        return None

    def from_plain(self, plain: Any) -> Any:
        """The model value of a checked YAML/JSON value."""
        return self.empty if plain is None else plain

    def to_plain(self, value: Any) -> Any:
        """The YAML/JSON value of a model value (None when unknown)."""
        return value

    def to_column(self, value: Any) -> Any:
        """The column value of a model value."""
        return value

    def from_column(self, stored: Any) -> Any:
        """The model value of a stored column value."""
        return self.empty if stored is None else stored

    def shown(self, value: Any) -> str:
        """A model value as ``models show`` prints it ("-" when unknown)."""
        return "-" if value is None or value == () else self._shown(value)

    def _shown(self, value: Any) -> str:
        return str(value)


class _Text(MetadataKind):
    name = "text"
    python_type = str | None
    column_type = "string"
    max_length = _MAX_TEXT
    expected = "a string"

    def accepts(self, plain: Any) -> bool:
        return isinstance(plain, str)

    def to_column(self, value: Any) -> Any:
        return None if value is None else value[: self.max_length]


def _whole(plain: Any, high: int) -> bool:
    return isinstance(plain, int) and not isinstance(plain, bool) and 0 <= plain <= high


class _Tokens(MetadataKind):
    name = "tokens"
    python_type = int | None
    unit = "tokens"
    column_type = "integer"
    expected = f"a whole number from 0 to {MAX_TOKENS}"

    def accepts(self, plain: Any) -> bool:
        return _whole(plain, MAX_TOKENS)

    def _shown(self, value: Any) -> str:
        return f"{value:,}"


class _EpochSeconds(MetadataKind):
    name = "epoch_seconds"
    python_type = int | None
    unit = "UTC epoch seconds"
    column_type = "float"
    expected = f"a whole number from 0 to {MAX_EPOCH} (the year 9999)"

    def accepts(self, plain: Any) -> bool:
        return _whole(plain, MAX_EPOCH)

    def to_column(self, value: Any) -> Any:
        return None if value is None else float(value)

    def from_column(self, stored: Any) -> Any:
        return None if stored is None else int(stored)

    def _shown(self, value: Any) -> str:
        return datetime.fromtimestamp(value, tz=UTC).strftime("%Y-%m-%d")


class _Price(MetadataKind):
    name = "price"
    python_type = float | None
    unit = "USD per million tokens"
    column_type = "float"
    expected = f"a number from 0 to {MAX_PRICE:,.0f} (USD per million tokens)"

    def accepts(self, plain: Any) -> bool:
        return (
            isinstance(plain, int | float)
            and not isinstance(plain, bool)
            and math.isfinite(plain)
            and 0 <= plain <= MAX_PRICE
        )

    def from_plain(self, plain: Any) -> Any:
        return None if plain is None else float(plain)

    def _shown(self, value: Any) -> str:
        # A stored or chosen price of 0 is one a source called free (a 0 it did not is unknown).
        return "free" if value == 0 else f"${value:g} / 1M tokens"


class _Names(MetadataKind):
    name = "names"
    python_type = tuple[str, ...]
    column_type = "json"
    expected = (
        f"a list of at most {MAX_NAMES} names, each a string of 1 to {MAX_NAME_LENGTH} characters"
    )
    empty = ()

    def accepts(self, plain: Any) -> bool:
        return (
            isinstance(plain, list)
            and len(plain) <= MAX_NAMES
            and all(
                isinstance(v, str) and 0 < len(v) <= MAX_NAME_LENGTH and not UNSTORABLE.search(v)
                for v in plain
            )
        )

    def from_plain(self, plain: Any) -> Any:
        return _strings(plain)

    def to_plain(self, value: Any) -> Any:
        return list(value) or None

    def to_column(self, value: Any) -> Any:
        return list(value) or None

    def from_column(self, stored: Any) -> Any:
        return _strings(stored)

    def _shown(self, value: Any) -> str:
        return ", ".join(value)


def _strings(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list | tuple):
        return ()
    return tuple(v for v in value if isinstance(v, str))


TEXT = _Text()
TOKENS = _Tokens()
EPOCH_SECONDS = _EpochSeconds()
PRICE = _Price()
NAMES = _Names()

_DESCRIPTION = "provider_store.metadata_field"


def _described(kind: MetadataKind, meaning: str, *, in_list: bool = True) -> Any:
    """Declare a ModelInfo attribute as a metadata field of ``kind`` (see the module docstring).

    ``in_list``: also a key of every ``models list --json`` row (all fields are in ``show``).
    """
    return field(default=kind.empty, metadata={_DESCRIPTION: (kind, meaning, in_list)})


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """One listed model: its id plus the metadata its provider listed (None when unknown)."""

    id: str
    display_name: str | None = _described(TEXT, "the model's name for people, as listed")
    created: int | None = _described(
        EPOCH_SECONDS, "when the provider says the model was created", in_list=False
    )
    context_length: int | None = _described(
        TOKENS, "the context window: input and output tokens of one request together"
    )
    max_input_tokens: int | None = _described(
        TOKENS,
        "the longest input (prompt) the model reads, when less than the context",
        in_list=False,
    )
    max_output_tokens: int | None = _described(TOKENS, "the longest answer the model writes")
    input_price: float | None = _described(PRICE, "price of input (prompt) tokens")
    output_price: float | None = _described(PRICE, "price of output (completion) tokens")
    input_modalities: tuple[str, ...] = _described(
        NAMES, "what the model reads: text, image, audio ...", in_list=False
    )
    output_modalities: tuple[str, ...] = _described(
        NAMES, "what the model writes: text, image ...", in_list=False
    )
    capabilities: tuple[str, ...] = _described(
        NAMES, "sorted lowercase names: tools, vision, reasoning, chat ..."
    )
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class MetadataField:
    """One metadata field of :class:`ModelInfo`: its name (also its column, YAML and JSON key),
    its kind, what it means, and whether ``models list --json`` shows it."""

    name: str
    kind: MetadataKind
    meaning: str
    in_list: bool

    @property
    def unit(self) -> str | None:
        """The unit of the value (None for text and names)."""
        return self.kind.unit

    def value_of(self, info: ModelInfo) -> Any:
        """This field's model value in ``info``."""
        return getattr(info, self.name)

    def problem(self, plain: Any, found: str) -> str | None:
        """Why a YAML value of this field is refused, or None (see :meth:`MetadataKind.problem`)."""
        return self.kind.problem(plain, found)

    def from_plain(self, plain: Any) -> Any:
        """The model value of a checked YAML/JSON value."""
        return self.kind.from_plain(plain)

    def to_plain(self, value: Any) -> Any:
        """The YAML/JSON value of a model value (None when unknown)."""
        return self.kind.to_plain(value)

    def to_column(self, value: Any) -> Any:
        """The column value of a model value."""
        return self.kind.to_column(value)

    def from_column(self, stored: Any) -> Any:
        """The model value of a stored column value."""
        return self.kind.from_column(stored)

    def shown(self, value: Any) -> str:
        """A model value as ``models show`` prints it."""
        return self.kind.shown(value)


METADATA_FIELDS: tuple[MetadataField, ...] = tuple(
    MetadataField(f.name, *f.metadata[_DESCRIPTION])
    for f in dataclasses.fields(ModelInfo)
    if _DESCRIPTION in f.metadata
)
_BY_NAME = {f.name: f for f in METADATA_FIELDS}
# The fields that are prices (a change to one is a price change).
PRICE_FIELDS = frozenset(f.name for f in METADATA_FIELDS if f.kind is PRICE)


def metadata_field(name: str) -> MetadataField | None:
    """The metadata field called ``name``, or None when there is none."""
    return _BY_NAME.get(name)


@dataclass(frozen=True, slots=True)
class FieldChange:
    """One metadata field whose value differs between two ModelInfo values (model values)."""

    field: MetadataField
    before: Any
    after: Any


def changed_fields(before: ModelInfo, after: ModelInfo) -> tuple[FieldChange, ...]:
    """The metadata fields whose values differ from ``before`` to ``after``, in field order.

    Values compare as stored: an empty tuple and None are both "unknown", and NaN equals NaN.
    """
    changes = []
    for item in METADATA_FIELDS:
        old, new = item.value_of(before), item.value_of(after)
        if item.to_column(old) != item.to_column(new) and not (_nan(old) and _nan(new)):
            changes.append(FieldChange(item, old, new))
    return tuple(changes)


def _nan(value: Any) -> bool:
    return isinstance(value, float) and math.isnan(value)


def is_iso_date(text: str) -> bool:
    """True when ``text`` is a calendar date as ISO 8601 writes it (``2026-12-31``), as a
    deprecation date is stored."""
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


_FREE = re.compile(r"(?:^|[^a-z0-9])free(?:$|[^a-z0-9])")


def says_free(*names: str | None) -> bool:
    """True when a model's id or name says the model is free (``…:free``, ``kilo-auto/free``,
    ``Trinity (free)``): the only place a price of 0 means "free" rather than "unknown"."""
    return any(name is not None and _FREE.search(name.lower()) is not None for name in names)


def is_moving_alias(model_id: str) -> bool:
    """True for an id that names whatever model its provider currently points it at
    (``gemini-flash-latest``, ``mistral-large-latest``), not one fixed model."""
    return model_id.lower().rsplit("/", 1)[-1].endswith("-latest")


def listed_alias_targets(items: Iterable[Any]) -> dict[str, str]:
    """Where a provider's list says which listed model an id points at: alias id -> target id.

    Two shapes say it: an item whose ``name`` is another listed id that the two items' ``aliases``
    connect (Mistral lists ``mistral-large-latest`` with ``name: mistral-large-2512``), and an
    item whose ``aliases`` name ids that do not list it back (xAI lists ``grok-3`` with
    ``aliases: [grok-3-latest]``). Symmetric ``aliases`` without a ``name`` say nothing about
    which is the target.
    """
    by_id: dict[str, Mapping[str, Any]] = {}
    for item in items:
        if isinstance(item, Mapping) and isinstance(item.get("id"), str):
            by_id.setdefault(item["id"], item)

    def aliases(item: Mapping[str, Any]) -> set[str]:
        found = item.get("aliases")
        return {a for a in found if isinstance(a, str)} if isinstance(found, list) else set()

    targets: dict[str, str] = {}
    for model_id, item in by_id.items():
        name = item.get("name")
        if isinstance(name, str) and name != model_id and name in by_id:
            if name in aliases(item) or model_id in aliases(by_id[name]):
                targets[model_id] = name
    for model_id, item in by_id.items():
        for alias in aliases(item) - {model_id}:
            other = by_id.get(alias)
            if alias not in targets and (other is None or model_id not in aliases(other)):
                targets[alias] = model_id
    # One step only: a target that is itself an alias points at its own target.
    return {alias: targets.get(target, target) for alias, target in targets.items()}
