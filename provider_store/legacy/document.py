"""Parse, validate and dump the legacy ``providers:`` YAML document. Pure: no database code.

The document::

    providers:
      <key>:                       letters, digits, '.', '_', '-' (see rules.PROVIDER_KEY_RULE)
        api_key: <str>             optional; missing, "", blank or "...not-configured": the
                                   environment supplies it ({KEY}_API_KEY)
        base_api_url: <str>        required; an http(s) URL with a host (rules.base_url_problem)
        name: <str>                optional; missing means the provider key
        valid_models: {id: alias}  optional mapping of strings; missing means {} (none)
        invalid_models: [id, ...]  optional; missing means [] (ids known not to answer chat)
        kind: <str>                optional; openai (default), anthropic or gemini
        options: {...}             optional mapping of connection options (rules.check_options);
                                   ``no_key: true`` marks a keyless local server (no key is sent)
        model_metadata:            optional, written by ``export --with-metadata``:
          <id>: {field: value}     listed metadata of a valid or invalid model (see below)
        <other key>: <value>       kept as is, in order, written back after the known keys
    <other key>: <value>           kept as is, in order, written back after ``providers``

A minimal provider is ``<key>: {base_api_url: <url>}``; it exports with every field written out.
Choices where the legacy format was loose: fields that are present must be strings
(``null`` is not a string: write ``""``); YAML 1.1 booleans and numbers are not strings (quote
them); a model id is non-empty, appears once, and is not both valid and invalid. Values of unknown
keys must be JSON-compatible (strings, numbers, booleans, null, lists, mappings with string keys)
because the store keeps them as JSON. Unquoted dates stay strings (the timestamp resolver is off),
so ``released: 2024-05-13`` survives a round trip unchanged.

``kind`` and ``options`` are written only when they differ from the default (openai, none), and
``model_metadata`` only when asked, so a catalog that uses none of them exports byte for byte as
before. A ``model_metadata`` entry has any of the fields of
:data:`provider_store.model_info.METADATA_FIELDS` (``context_length: 131072``, ``input_price: 2.5``
in USD per million tokens, ``capabilities: [tools]`` ...), each checked as its kind says.

Safety checks (size, encoding, duplicate keys, alias bombs, nesting depth) are those of
:mod:`~safe_yaml`; every error is an :class:`InvalidDocumentError` naming the file,
line, column and field.

Why this module is long: it is the one parser of one document format, with a precise error for
every field at its line and column; the shared rules it applies live in ``rules/`` and
``model_info.py``, the YAML safety in ``safe_yaml.py``.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from provider_store.errors import InvalidDocumentError
from provider_store.legacy.model_cap import check_model_counts, too_many_models
from provider_store.legacy.safe_yaml import (
    MAX_ALIAS_EXPANSION,
    MAX_DEPTH,
    SEQ,
    STR,
    NodeLoader,
    check_bytes,
    join,
    kind,
    not_a_string,
    read_capped,
    yaml_error,
)
from provider_store.model_info import METADATA_FIELDS, MetadataField, metadata_field
from provider_store.rules import (
    DEFAULT_KIND,
    DEFAULT_MAX_MODELS,
    api_key_problem,
    check_provider_settings,
    provider_key_problem,
    text_problem,
)
from provider_store.rules.limits import MAX_FILE_BYTES

__all__ = [
    "KNOWN_FIELDS",
    "MAX_ALIAS_EXPANSION",
    "MAX_DEPTH",
    "MAX_FILE_BYTES",
    "LegacyDocument",
    "LegacyProvider",
    "dump_data",
    "dump_document",
    "load_path",
    "parse_bytes",
]

KNOWN_FIELDS = (
    "api_key",
    "base_api_url",
    "name",
    "valid_models",
    "invalid_models",
    "kind",
    "options",
    "model_metadata",
)
_METADATA_NAMES = tuple(f.name for f in METADATA_FIELDS)
_REQUIRED_FIELDS = ("base_api_url",)

try:  # libyaml's C emitter is several times faster
    from yaml import CSafeDumper as _BaseDumper
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    from yaml import SafeDumper as _BaseDumper  # type: ignore[assignment]


@dataclass(slots=True)
class LegacyProvider:
    """One provider of the document, validated. ``extra`` holds its unknown keys in order."""

    key: str
    name: str
    base_api_url: str
    api_key: str = field(repr=False)
    valid_models: dict[str, str]
    invalid_models: list[str]
    extra: dict[str, Any] = field(default_factory=dict)
    # False when the file had no ``invalid_models`` (a merge import then keeps the stored list).
    has_invalid_models: bool = True
    line: int | None = None
    kind: str = DEFAULT_KIND
    options: dict[str, Any] | None = None
    # Listed metadata by model id (``export --with-metadata``); None when the file has none.
    model_metadata: dict[str, dict[str, Any]] | None = None


@dataclass(slots=True)
class LegacyDocument:
    """A validated legacy document: providers in file order and unknown top-level keys."""

    providers: dict[str, LegacyProvider] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    source: str = "<input>"

    def to_data(self, *, redact_keys: bool = False) -> dict[str, Any]:
        """The document as plain data in export order (``invalid_models`` always present)."""
        providers: dict[str, Any] = {}
        for key, provider in self.providers.items():
            entry: dict[str, Any] = {
                "api_key": "" if redact_keys else provider.api_key,
                "base_api_url": provider.base_api_url,
                "name": provider.name,
                "valid_models": provider.valid_models,
                "invalid_models": provider.invalid_models,
            }
            if provider.kind != DEFAULT_KIND:
                entry["kind"] = provider.kind
            if provider.options is not None:
                entry["options"] = provider.options
            if provider.model_metadata:
                entry["model_metadata"] = provider.model_metadata
            entry.update(provider.extra)
            providers[key] = entry
        data: dict[str, Any] = {"providers": providers}
        data.update(self.extra)
        return data


class _Dumper(_BaseDumper):
    """Safe (C when available) dumper that never writes anchors: output depends on data only."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def dump_document(document: LegacyDocument, *, redact_keys: bool = False) -> bytes:
    """The document as deterministic UTF-8 YAML bytes in the legacy layout."""
    return dump_data(document.to_data(redact_keys=redact_keys))


def dump_data(data: dict[str, Any]) -> bytes:
    """Plain data as deterministic UTF-8 block-style YAML (insertion order, no anchors)."""
    out: bytes = yaml.dump(
        data,
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=1 << 20,
        encoding="utf-8",
    )
    return out


def load_path(path: str | Path, *, max_models: int = DEFAULT_MAX_MODELS) -> LegacyDocument:
    """Read and validate the legacy document at ``path``."""
    return parse_bytes(read_capped(path), source=str(path), max_models=max_models)


def parse_bytes(
    data: bytes, *, source: str = "<input>", max_models: int = DEFAULT_MAX_MODELS
) -> LegacyDocument:
    """Validate ``data`` (UTF-8 YAML) as a legacy document; raise InvalidDocumentError if bad.

    A provider listing more than ``max_models`` models is refused before the document is
    composed (see :mod:`~provider_store.legacy.model_cap`).
    """
    check_bytes(data, source)
    check_model_counts(data, source, max_models)
    loader = _Loader(data, source)
    loader.max_models = max_models
    try:
        return loader.document()
    except yaml.YAMLError as exc:
        raise yaml_error(exc, source, data) from exc
    finally:
        loader.dispose()


# How close an unknown key must be to a known one (difflib ratio) to be taken for a typo.
NEAR_MISS_CUTOFF = 0.8


def near_miss(name: str, known: tuple[str, ...]) -> str | None:
    """The known key ``name`` is probably a typo of (``valid_model`` -> ``valid_models``)."""
    normal = name.strip().lower().replace("-", "_").replace(" ", "_")
    if normal in known:
        return normal
    matches = difflib.get_close_matches(normal, known, n=1, cutoff=NEAR_MISS_CUTOFF)
    return matches[0] if matches else None


def _unknown_metadata_field(name: str) -> str:
    match = near_miss(name, _METADATA_NAMES)
    if match is not None:
        return f"unknown metadata field {name!r} (did you mean {match!r}?)"
    return f"unknown metadata field {name!r} (known: {', '.join(_METADATA_NAMES)})"


class _Loader(NodeLoader):
    """Builds a LegacyDocument from the composed nodes, checking each field of each provider."""

    max_models = DEFAULT_MAX_MODELS

    def document(self) -> LegacyDocument:
        root = self.compose_root()
        if root is None:
            raise InvalidDocumentError(
                "empty document; expected a mapping with a 'providers' key", path=self.source
            )
        if not isinstance(root, MappingNode):
            raise self._error("the document must be a mapping with a 'providers' key", root, "")
        document = LegacyDocument(source=self.source)
        providers_node: Node | None = None
        for key, key_node, value in self._pairs(root, ""):
            if key == "providers":
                providers_node = value
            else:
                self._refuse_near_miss(key, key_node, ("providers",), "")
                document.extra[key] = self._plain(value, join("", key), 1)
        if providers_node is None:
            raise self._error("missing the top-level 'providers' mapping", root, "providers")
        if not isinstance(providers_node, MappingNode):
            raise self._error(
                f"must be a mapping of provider key to settings, not {kind(providers_node)}",
                providers_node,
                "providers",
            )
        seen: dict[str, str] = {}  # lower-cased key -> key
        for key, key_node, value in self._pairs(providers_node, "providers"):
            problem = provider_key_problem(key)
            if problem is not None:
                raise self._error(problem, key_node, "providers")  # the key may be hostile
            twin = seen.setdefault(key.lower(), key)
            if twin != key:
                raise self._error(
                    f"provider keys {twin} and {key} differ only in case; keys are unique"
                    " regardless of case (they would share one API key variable)",
                    key_node,
                    join("providers", key),
                )
            document.providers[key] = self._provider(key, value)
        return document

    def _provider(self, key: str, node: Node) -> LegacyProvider:
        base = join("providers", key)
        if not isinstance(node, MappingNode):
            raise self._error(f"a provider must be a mapping, not {kind(node)}", node, base)
        fields: dict[str, Node] = {}
        extra: dict[str, Any] = {}
        for name, key_node, value in self._pairs(node, base):
            if name in KNOWN_FIELDS:
                fields[name] = value
            else:
                self._refuse_near_miss(name, key_node, KNOWN_FIELDS, base)
                extra[name] = self._plain(value, join(base, name), 3)
        for name in _REQUIRED_FIELDS:
            if name not in fields:
                raise self._error(f"missing required field '{name}'", node, join(base, name))
        url = self._string(fields["base_api_url"], join(base, "base_api_url"))
        kind_node = fields.get("kind")
        options_node = fields.get("options")
        try:  # the one checker of provider settings, shared with save_config and the CLI
            checked_kind, checked_options = check_provider_settings(
                key,
                base_api_url=url,
                kind=None if kind_node is None else self._string(kind_node, join(base, "kind")),
                options=(
                    None
                    if options_node is None
                    else self._options(options_node, join(base, "options"))
                ),
            )
        except InvalidDocumentError as exc:  # the same error, now with the file and line
            where = exc.field or base
            mark = _node_at(node, base, where).start_mark
            raise type(exc)(
                exc.reason,
                path=self.source,
                line=mark.line + 1,
                column=mark.column + 1,
                field=where,
            ) from None
        valid_node = fields.get("valid_models")
        valid = (
            {} if valid_node is None else self._valid_models(valid_node, join(base, "valid_models"))
        )
        invalid_node = fields.get("invalid_models")
        invalid = (
            [] if invalid_node is None
            else self._invalid_models(invalid_node, join(base, "invalid_models"), valid)
        )  # fmt: skip
        if len(valid) + len(invalid) > self.max_models:  # aliases and merge keys included
            raise self._error(too_many_models(key, self.max_models), node, base)
        metadata_node = fields.get("model_metadata")
        return LegacyProvider(
            kind=checked_kind,
            options=checked_options,
            model_metadata=(
                None
                if metadata_node is None
                else self._model_metadata(
                    metadata_node, join(base, "model_metadata"), {*valid, *invalid}
                )
            ),
            key=key,
            name=key if "name" not in fields else self._text(fields["name"], join(base, "name")),
            base_api_url=url,
            api_key="" if "api_key" not in fields else self._api_key(fields["api_key"], base),
            valid_models=valid,
            invalid_models=invalid,
            extra=extra,
            has_invalid_models=invalid_node is not None,
            line=node.start_mark.line + 1,
        )

    def _text(self, node: Node, where: str, *, empty: bool = True) -> str:
        """A string field within the limits every door applies (``rules.text_problem``)."""
        value = self._string(node, where)
        problem = text_problem(value, empty=empty)
        if problem is not None:
            raise self._error(problem, node, where)
        return value

    def _api_key(self, node: Node, base: str) -> str:
        where = join(base, "api_key")
        value = self._string(node, where, secret=True)
        problem = api_key_problem(value)
        if problem is not None:
            raise self._error(problem, node, where)
        return value

    def _options(self, node: Node, where: str) -> dict[str, Any]:
        if not isinstance(node, MappingNode):
            raise self._error(
                f"must be a mapping of option to value, not {kind(node)}", node, where
            )
        value: dict[str, Any] = self._plain(node, where, 3)
        return value

    def _model_metadata(
        self, node: Node, where: str, curated: set[str]
    ) -> dict[str, dict[str, Any]]:
        if not isinstance(node, MappingNode):
            raise self._error(
                f"must be a mapping of model id to metadata, not {kind(node)}", node, where
            )
        result: dict[str, dict[str, Any]] = {}
        for model_id, key_node, value in self._pairs(node, where):
            here = join(where, model_id)
            if model_id not in curated:
                raise self._error(
                    f"model {model_id!r} is not listed in valid_models or invalid_models",
                    key_node,
                    here,
                )
            if not isinstance(value, MappingNode):
                raise self._error(f"must be a mapping of field to value, not {kind(value)}",
                                  value, here)  # fmt: skip
            entry: dict[str, Any] = {}
            for name, name_node, field_node in self._pairs(value, here):
                described = metadata_field(name)
                if described is None:
                    raise self._error(_unknown_metadata_field(name), name_node, join(here, name))
                entry[name] = self._metadata_value(field_node, join(here, name), described)
            result[model_id] = entry
        return result

    def _metadata_value(self, node: Node, where: str, described: MetadataField) -> Any:
        """A checked ``model_metadata`` value, as plain data in the field's unit (None: unknown)."""
        value = self._plain(node, where, 5)
        problem = described.problem(value, kind(node))
        if problem is not None:
            raise self._error(problem, node, where)
        return described.to_plain(described.from_plain(value))

    def _refuse_near_miss(
        self, name: str, key_node: Node, known: tuple[str, ...], where: str
    ) -> None:
        """Unknown keys are kept, but one that looks like a typo of a known key is an error."""
        match = near_miss(name, known)
        if match is not None:
            raise self._error(
                f"unknown key {name!r} (did you mean {match!r}?)", key_node, join(where, name)
            )

    def _valid_models(self, node: Node, where: str) -> dict[str, str]:
        if not isinstance(node, MappingNode):
            hint = (
                " (write 'id: alias' lines, not '- id')" if isinstance(node, SequenceNode) else ""
            )
            raise self._error(
                f"must be a mapping of model id to alias, not {kind(node)}{hint}", node, where
            )
        models: dict[str, str] = {}
        for model_id, key_node, value in self._pairs(node, where):
            self._model_id(model_id, key_node, where)
            here = join(where, model_id)
            if value.tag != STR or not isinstance(value, ScalarNode):
                raise self._error(f"alias must be a string, {not_a_string(value)}", value, here)
            models[model_id] = self._text(value, here)
        return models

    def _model_id(self, model_id: str, node: Node, where: str) -> None:
        if not model_id:
            raise self._error("model id must not be empty", node, where)
        problem = text_problem(model_id)
        if problem is not None:
            raise self._error(f"model id {problem}", node, where)

    def _invalid_models(self, node: Node, where: str, valid: dict[str, str]) -> list[str]:
        if not isinstance(node, SequenceNode) or node.tag != SEQ:
            raise self._error(
                f"must be a list of model ids ([] for none), not {kind(node)}", node, where
            )
        models: list[str] = []
        seen: set[str] = set()
        for index, item in enumerate(node.value):
            model_id = self._string(item, f"{where}[{index}]")
            self._model_id(model_id, item, f"{where}[{index}]")
            if model_id in valid:
                raise self._error(
                    f"model {model_id!r} is listed in both valid_models and invalid_models",
                    item,
                    f"{where}[{index}]",
                )
            if model_id in seen:
                raise self._error(f"model {model_id!r} is listed twice", item, f"{where}[{index}]")
            seen.add(model_id)
            models.append(model_id)
        return models


def _node_at(provider: Node, base: str, field: str) -> Node:
    """The node of a provider's mapping that ``field`` (``base.options.auth_headr``) names: the
    key node of its last part, or the deepest node the path reaches."""
    parts = field[len(base) + 1 :].split(".") if field.startswith(base + ".") else []
    current = provider
    for index, part in enumerate(parts):
        if not isinstance(current, MappingNode):
            break
        found = [(k, v) for k, v in current.value if isinstance(k, ScalarNode) and k.value == part]
        if not found:
            break
        key_node, value_node = found[-1]
        if index == len(parts) - 1:
            return key_node if isinstance(value_node, MappingNode | SequenceNode) else value_node
        current = value_node
    return current
