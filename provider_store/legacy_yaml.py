"""Parse, validate and dump the legacy ``providers:`` YAML document. Pure: no database code.

The document::

    providers:
      <key>:                       a non-empty string
        api_key: <str>             required; "" or "...not-configured" = the environment supplies it
        base_api_url: <str>        required; an http(s) URL with a host
        name: <str>                required
        valid_models: {id: alias}  required mapping of strings ({} for none)
        invalid_models: [id, ...]  optional; missing means [] (ids known not to answer chat)
        <other key>: <value>       kept as is, in order, written back after the known keys
    <other key>: <value>           kept as is, in order, written back after ``providers``

Choices where the legacy format was loose: required fields must be present and be strings
(``null`` is not a string: write ``""``); YAML 1.1 booleans and numbers are not strings (quote
them); a model id is non-empty, appears once, and is not both valid and invalid. Values of unknown
keys must be JSON-compatible (strings, numbers, booleans, null, lists, mappings with string keys)
because the store keeps them as JSON. Unquoted dates stay strings (the timestamp resolver is off),
so ``released: 2024-05-13`` survives a round trip unchanged.

Safety: files over :data:`MAX_FILE_BYTES`, non-UTF-8 or binary input, duplicate keys, recursive
aliases, alias expansion beyond :data:`MAX_ALIAS_EXPANSION` extra nodes ("billion laughs") and
nesting deeper than :data:`MAX_DEPTH` are rejected with an :class:`InvalidDocumentError` naming
the file, line, column and field. Ordinary anchors, aliases and ``<<`` merge keys work.
"""

from __future__ import annotations

import json
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from provider_store.errors import InvalidDocumentError

MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_ALIAS_EXPANSION = 1_000_000
MAX_DEPTH = 100
# libyaml's composer recurses in C; it crashes somewhere past 20,000 levels, so deeper
# documents are refused before composing.
_MAX_COMPOSE_DEPTH = 1_000

KNOWN_FIELDS = ("api_key", "base_api_url", "name", "valid_models", "invalid_models")
_REQUIRED_FIELDS = ("api_key", "base_api_url", "name", "valid_models")

_TAG = "tag:yaml.org,2002:"
_STR, _MAP, _SEQ, _MERGE = _TAG + "str", _TAG + "map", _TAG + "seq", _TAG + "merge"
_PLAIN_SCALAR_TAGS = {_TAG + "null", _TAG + "bool", _TAG + "int", _TAG + "float"}
# Characters a double-quoted YAML escape can produce that no database text column accepts.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_SIMPLE_SEGMENT = re.compile(r"[A-Za-z0-9_-]+\Z")

try:  # libyaml's C parser and emitter are several times faster
    from yaml import CSafeDumper as _BaseDumper
    from yaml import CSafeLoader as _BaseLoader
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    from yaml import SafeDumper as _BaseDumper  # type: ignore[assignment]
    from yaml import SafeLoader as _BaseLoader  # type: ignore[assignment]


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


def load_path(path: str | Path) -> LegacyDocument:
    """Read and validate the legacy document at ``path``."""
    source = str(path)
    try:
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            data = b"" if size > MAX_FILE_BYTES else handle.read(MAX_FILE_BYTES + 1)
            if size > MAX_FILE_BYTES or len(data) > MAX_FILE_BYTES:
                raise InvalidDocumentError(
                    f"file is larger than the {MAX_FILE_BYTES // (1024 * 1024)} MiB limit",
                    path=source,
                )
    except OSError as exc:
        raise InvalidDocumentError(f"cannot read file: {exc.strerror or exc}", path=source) from exc
    return parse_bytes(data, source=source)


def parse_bytes(data: bytes, *, source: str = "<input>") -> LegacyDocument:
    """Validate ``data`` (UTF-8 YAML) as a legacy document; raise InvalidDocumentError if bad."""
    _check_bytes(data, source)
    loader = _Loader(data, source)
    try:
        return loader.document()
    except yaml.YAMLError as exc:
        raise _yaml_error(exc, source, data) from exc
    finally:
        loader.dispose()


def _check_bytes(data: bytes, source: str) -> None:
    if len(data) > MAX_FILE_BYTES:
        raise InvalidDocumentError(
            f"file is larger than the {MAX_FILE_BYTES // (1024 * 1024)} MiB limit", path=source
        )
    for bom, name in ((b"\xff\xfe\x00\x00", "UTF-32"), (b"\x00\x00\xfe\xff", "UTF-32"),
                      (b"\xff\xfe", "UTF-16"), (b"\xfe\xff", "UTF-16")):  # fmt: skip
        if data.startswith(bom):
            raise InvalidDocumentError(
                f"file is encoded as {name}; save it as UTF-8", path=source, line=1, column=1
            )
    nul = data.find(b"\x00")
    if nul >= 0:
        line, column = _position(data, nul)
        raise InvalidDocumentError(
            "binary data (NUL byte), not a YAML text file", path=source, line=line, column=column
        )
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, column = _position(data, exc.start)
        raise InvalidDocumentError(
            f"not UTF-8 text (byte 0x{data[exc.start]:02x}); save the file as UTF-8",
            path=source,
            line=line,
            column=column,
        ) from None


def _position(data: bytes, offset: int) -> tuple[int, int]:
    line_start = data.rfind(b"\n", 0, offset) + 1
    return data.count(b"\n", 0, offset) + 1, offset - line_start + 1


def _yaml_error(exc: yaml.YAMLError, source: str, data: bytes) -> InvalidDocumentError:
    if isinstance(exc, yaml.reader.ReaderError):
        line, column = _position(data, exc.position)
        char = exc.character if isinstance(exc.character, int) else ord(exc.character[:1] or " ")
        return InvalidDocumentError(
            f"not valid YAML: unacceptable character #x{char:04x}: {exc.reason}",
            path=source,
            line=line,
            column=column,
        )
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        reason = " ".join(part for part in (exc.context, exc.problem) if part) or "bad YAML"
        return InvalidDocumentError(
            f"not valid YAML: {_one_line(reason)}",
            path=source,
            line=mark.line + 1 if mark else None,
            column=mark.column + 1 if mark else None,
        )
    return InvalidDocumentError(f"not valid YAML: {_one_line(str(exc))}", path=source)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _join(base: str, segment: str) -> str:
    if _SIMPLE_SEGMENT.match(segment):
        return f"{base}.{segment}" if base else segment
    return f"{base}[{json.dumps(segment, ensure_ascii=False)}]"


def _approximate_depth_bound(data: bytes) -> int:
    """An upper bound of the nesting depth: flow brackets plus block indentation per line."""
    longest_line = max(map(len, data.split(b"\n")), default=0)
    return data.count(b"[") + data.count(b"{") + 2 * longest_line + 2


class _Loader(_BaseLoader):
    """Safe loader (C when available) that composes nodes and validates them itself.

    Going through the node graph rather than constructed objects gives every error a line and
    column, finds duplicate keys, and bounds alias expansion before anything walks it.
    """

    # Dates stay strings: a JSON column cannot hold datetime values, and the dumper quotes them.
    yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != _TAG + "timestamp"]
        for first, resolvers in _BaseLoader.yaml_implicit_resolvers.items()
    }

    def __init__(self, data: bytes, source: str) -> None:
        super().__init__(data)
        self.source = source
        self._data = data
        self._checked_mappings: set[int] = set()

    # -- whole document ----------------------------------------------------------------------

    def document(self) -> LegacyDocument:
        if _approximate_depth_bound(self._data) > _MAX_COMPOSE_DEPTH:
            self._check_event_depth()
        root = self.get_single_node()
        if root is None:
            raise InvalidDocumentError(
                "empty document; expected a mapping with a 'providers' key", path=self.source
            )
        if b"&" in self._data:  # no anchor, no alias: nothing can expand
            self._check_expansion(root)
        if not isinstance(root, MappingNode):
            raise self._error("the document must be a mapping with a 'providers' key", root, "")
        document = LegacyDocument(source=self.source)
        providers_node: Node | None = None
        for key, _key_node, value in self._pairs(root, ""):
            if key == "providers":
                providers_node = value
            else:
                document.extra[key] = self._plain(value, _join("", key), 1)
        if providers_node is None:
            raise self._error("missing the top-level 'providers' mapping", root, "providers")
        if not isinstance(providers_node, MappingNode):
            raise self._error(
                f"must be a mapping of provider key to settings, not {_kind(providers_node)}",
                providers_node,
                "providers",
            )
        for key, key_node, value in self._pairs(providers_node, "providers"):
            if not key:
                raise self._error("provider key must not be empty", key_node, "providers")
            document.providers[key] = self._provider(key, value)
        return document

    def _check_event_depth(self) -> None:
        checker = _BaseLoader(self._data)
        try:
            depth = 0
            while checker.check_event():
                event = checker.get_event()
                if isinstance(event, yaml.CollectionStartEvent):
                    depth += 1
                    if depth > MAX_DEPTH:
                        mark = event.start_mark
                        raise InvalidDocumentError(
                            f"nested more than {MAX_DEPTH} levels deep",
                            path=self.source,
                            line=mark.line + 1 if mark else None,
                            column=mark.column + 1 if mark else None,
                        )
                elif isinstance(event, yaml.CollectionEndEvent):
                    depth -= 1
        finally:
            checker.dispose()

    def _check_expansion(self, root: Node) -> None:
        """Refuse recursive aliases and alias expansion beyond MAX_ALIAS_EXPANSION nodes."""
        sizes: dict[int, int] = {}
        on_path: set[int] = set()
        stack: list[tuple[Node, bool]] = [(root, False)]
        while stack:
            node, finished = stack.pop()
            node_id = id(node)
            children = _children(node)
            if finished:
                on_path.discard(node_id)
                sizes[node_id] = 1 + sum(sizes[id(child)] for child in children)
                continue
            if node_id in sizes:
                continue
            if node_id in on_path:
                raise self._error("recursive alias (a node that contains itself)", node, "")
            on_path.add(node_id)
            stack.append((node, True))
            stack.extend((child, False) for child in children if id(child) not in sizes)
        expanded = sizes[id(root)]
        if expanded - len(sizes) > MAX_ALIAS_EXPANSION:
            raise self._error(
                f"aliases expand the document to {expanded:,} nodes from {len(sizes):,}"
                f" (limit: {MAX_ALIAS_EXPANSION:,} extra); refusing a possible alias bomb",
                root,
                "",
            )

    # -- one provider ------------------------------------------------------------------------

    def _provider(self, key: str, node: Node) -> LegacyProvider:
        base = _join("providers", key)
        if not isinstance(node, MappingNode):
            raise self._error(f"a provider must be a mapping, not {_kind(node)}", node, base)
        fields: dict[str, Node] = {}
        extra: dict[str, Any] = {}
        for name, _key_node, value in self._pairs(node, base):
            if name in KNOWN_FIELDS:
                fields[name] = value
            else:
                extra[name] = self._plain(value, _join(base, name), 3)
        for name in _REQUIRED_FIELDS:
            if name not in fields:
                raise self._error(f"missing required field '{name}'", node, _join(base, name))
        url = self._string(fields["base_api_url"], _join(base, "base_api_url"))
        parts = urlsplit(url.strip())
        if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
            reason = "must not be empty" if not url.strip() else "must be an http(s) URL"
            raise self._error(
                f"{reason} (e.g. https://api.example.com/v1)",
                fields["base_api_url"],
                _join(base, "base_api_url"),
            )
        valid = self._valid_models(fields["valid_models"], _join(base, "valid_models"))
        invalid_node = fields.get("invalid_models")
        invalid = (
            [] if invalid_node is None
            else self._invalid_models(invalid_node, _join(base, "invalid_models"), valid)
        )  # fmt: skip
        return LegacyProvider(
            key=key,
            name=self._string(fields["name"], _join(base, "name")),
            base_api_url=url,
            api_key=self._string(fields["api_key"], _join(base, "api_key"), secret=True),
            valid_models=valid,
            invalid_models=invalid,
            extra=extra,
            has_invalid_models=invalid_node is not None,
            line=node.start_mark.line + 1,
        )

    def _valid_models(self, node: Node, where: str) -> dict[str, str]:
        if not isinstance(node, MappingNode):
            hint = (
                " (write 'id: alias' lines, not '- id')" if isinstance(node, SequenceNode) else ""
            )
            raise self._error(
                f"must be a mapping of model id to alias, not {_kind(node)}{hint}", node, where
            )
        models: dict[str, str] = {}
        for model_id, key_node, value in self._pairs(node, where):
            if not model_id:
                raise self._error("model id must not be empty", key_node, where)
            if value.tag != _STR or not isinstance(value, ScalarNode):
                raise self._error(
                    f"alias must be a string, not {_kind(value)}", value, _join(where, model_id)
                )
            alias = value.value
            if value.style == '"' and _UNSTORABLE.search(alias):
                raise self._error(_UNSTORABLE_REASON, value, _join(where, model_id))
            models[model_id] = alias
        return models

    def _invalid_models(self, node: Node, where: str, valid: dict[str, str]) -> list[str]:
        if not isinstance(node, SequenceNode) or node.tag != _SEQ:
            raise self._error(
                f"must be a list of model ids ([] for none), not {_kind(node)}", node, where
            )
        models: list[str] = []
        seen: set[str] = set()
        for index, item in enumerate(node.value):
            model_id = self._string(item, f"{where}[{index}]")
            if not model_id:
                raise self._error("model id must not be empty", item, f"{where}[{index}]")
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

    # -- generic helpers ---------------------------------------------------------------------

    def _pairs(self, node: MappingNode, where: str) -> list[tuple[str, Node, Node]]:
        """(key, key node, value node) with string keys, no duplicates, ``<<`` merges applied."""
        self._check_keys(node, where)
        if any(key.tag == _MERGE for key, _value in node.value):
            self.flatten_mapping(node)
            merged: dict[str, tuple[str, Node, Node]] = {}
            for key_node, value in node.value:
                merged[key_node.value] = (key_node.value, key_node, value)
            return list(merged.values())
        return [(key_node.value, key_node, value) for key_node, value in node.value]

    def _check_keys(self, node: MappingNode, where: str) -> None:
        if id(node) in self._checked_mappings:
            return
        if node.tag != _MAP:
            raise self._error(f"unsupported mapping type {node.tag}", node, where)
        seen: dict[str, Node] = {}
        for key_node, value in node.value:
            if key_node.tag == _MERGE:
                sources = value.value if isinstance(value, SequenceNode) else [value]
                for source in sources:
                    if isinstance(source, MappingNode):
                        self._check_keys(source, where)
                continue
            if not isinstance(key_node, ScalarNode) or key_node.tag != _STR:
                raise self._error(
                    f"keys must be strings, not {_kind(key_node)}",
                    key_node,
                    where,
                )
            name = key_node.value
            if name in seen:
                first = seen[name].start_mark.line + 1
                raise self._error(
                    f"duplicate key {name!r} (first defined on line {first})",
                    key_node,
                    _join(where, name),
                )
            if key_node.style == '"' and _UNSTORABLE.search(name):
                raise self._error(_UNSTORABLE_REASON, key_node, where)
            seen[name] = key_node
        self._checked_mappings.add(id(node))

    def _string(self, node: Node, where: str, *, secret: bool = False) -> str:
        if isinstance(node, ScalarNode) and node.tag == _STR:
            value: str = node.value
            if node.style == '"' and _UNSTORABLE.search(value):
                raise self._error(_UNSTORABLE_REASON, node, where)
            return value
        kind = "a value that is not a string" if secret else _kind(node)
        raise self._error(f"must be a string, not {kind}", node, where)

    def _plain(self, node: Node, where: str, depth: int) -> Any:
        """An unknown key's value as JSON-compatible data."""
        if depth > MAX_DEPTH:
            raise self._error(f"nested more than {MAX_DEPTH} levels deep", node, where)
        if isinstance(node, ScalarNode):
            if node.tag == _STR:
                return self._string(node, where)
            if node.tag in _PLAIN_SCALAR_TAGS:
                value = self.construct_object(node)
                if isinstance(value, float) and not math.isfinite(value):
                    raise self._error("NaN and infinite numbers cannot be stored", node, where)
                return value
        elif isinstance(node, SequenceNode) and node.tag == _SEQ:
            return [
                self._plain(item, f"{where}[{index}]", depth + 1)
                for index, item in enumerate(node.value)
            ]
        elif isinstance(node, MappingNode) and node.tag == _MAP:
            return {
                key: self._plain(value, _join(where, key), depth + 1)
                for key, _key_node, value in self._pairs(node, where)
            }
        raise self._error(
            f"unsupported value type {node.tag} (only JSON-compatible values are kept)",
            node,
            where,
        )

    def _error(self, reason: str, node: Node, where: str) -> InvalidDocumentError:
        mark = node.start_mark
        return InvalidDocumentError(
            reason,
            path=self.source,
            line=mark.line + 1,
            column=mark.column + 1,
            field=where or None,
        )


_UNSTORABLE_REASON = "contains a NUL or lone surrogate character, which cannot be stored"


def _children(node: Node) -> list[Node]:
    if isinstance(node, SequenceNode):
        return list(node.value)
    if isinstance(node, MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def _kind(node: Node) -> str:
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    tag = node.tag.removeprefix(_TAG)
    if tag == "str":
        return "a string"
    if tag == "null":
        return "null (empty)"
    if tag in ("bool", "int", "float"):
        return f"{'a' if tag != 'int' else 'an'} {tag} ({node.value!r}; quote it to make a string)"
    return f"a {tag} value"
