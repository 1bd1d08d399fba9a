"""Safe YAML loading: input checks and a node-level loader whose errors carry line and column.

Files over :data:`MAX_FILE_BYTES`, non-UTF-8 or binary input, duplicate keys, recursive aliases,
alias expansion beyond :data:`MAX_ALIAS_EXPANSION` extra nodes ("billion laughs") and nesting
deeper than :data:`MAX_DEPTH` are rejected with an :class:`InvalidDocumentError` naming the file,
line, column and field. Ordinary anchors, aliases and ``<<`` merge keys work. Pure: no database
code. The document model built on top of this lives in :mod:`provider_store.legacy.document`.
"""

from __future__ import annotations

import json
import math
import os
import re
import stat
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from provider_store.errors import InvalidDocumentError
from provider_store.rules.limits import (
    MAX_FILE_BYTES,
    MAX_NESTING_DEPTH,
    UNSTORABLE,
    UNSTORABLE_REASON,
)

MAX_ALIAS_EXPANSION = 1_000_000
MAX_DEPTH = MAX_NESTING_DEPTH
# libyaml's composer recurses in C; it crashes somewhere past 20,000 levels, so deeper
# documents are refused before composing.
_MAX_COMPOSE_DEPTH = 1_000

TAG = "tag:yaml.org,2002:"
STR, MAP, SEQ, MERGE = TAG + "str", TAG + "map", TAG + "seq", TAG + "merge"
_PLAIN_SCALAR_TAGS = {TAG + "null", TAG + "bool", TAG + "int", TAG + "float"}
_SIMPLE_SEGMENT = re.compile(r"[A-Za-z0-9_-]+\Z")

try:  # libyaml's C parser is several times faster
    from yaml import CSafeLoader as _BaseLoader
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    from yaml import SafeLoader as _BaseLoader  # type: ignore[assignment]


def read_capped(path: str | Path) -> bytes:
    """The bytes of the file at ``path``; refuse files over MAX_FILE_BYTES or unreadable ones."""
    source = str(path)
    try:
        # O_NONBLOCK: opening a FIFO without a writer must not hang; only regular files pass.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with open(fd, "rb") as handle:
            info = os.fstat(handle.fileno())
            if not stat.S_ISREG(info.st_mode):
                raise InvalidDocumentError(
                    f"not a regular file ({file_kind(info.st_mode)}); import reads a YAML file",
                    path=source,
                )
            if hasattr(os, "set_blocking"):
                os.set_blocking(handle.fileno(), True)
            size = info.st_size
            data = b"" if size > MAX_FILE_BYTES else handle.read(MAX_FILE_BYTES + 1)
            if size > MAX_FILE_BYTES or len(data) > MAX_FILE_BYTES:
                raise InvalidDocumentError(
                    f"file is larger than the {MAX_FILE_BYTES // (1024 * 1024)} MiB limit",
                    path=source,
                )
    except OSError as exc:
        raise InvalidDocumentError(f"cannot read file: {exc.strerror or exc}", path=source) from exc
    return data


def file_kind(mode: int) -> str:
    """What a file that is not a regular one is, in words (``mode`` from stat or lstat)."""
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "an unusual file type"


def check_bytes(data: bytes, source: str) -> None:
    """Refuse input that is too large, UTF-16/32, binary (NUL bytes) or not UTF-8."""
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


def yaml_error(exc: yaml.YAMLError, source: str, data: bytes) -> InvalidDocumentError:
    """A PyYAML error as an InvalidDocumentError with the file, line and column."""
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
        tab = _indentation_tab(data, mark.line if mark else None)
        if tab is not None:
            return InvalidDocumentError(
                "tabs are not allowed in YAML indentation; indent with spaces",
                path=source,
                line=tab[0],
                column=tab[1],
            )
        reason = " ".join(part for part in (exc.context, exc.problem) if part) or "bad YAML"
        if "maximum nesting depth" in reason:  # libyaml's own limit, reached before ours
            return InvalidDocumentError(
                f"nested more than {MAX_DEPTH} levels deep",
                path=source,
                line=mark.line + 1 if mark else None,
                column=mark.column + 1 if mark else None,
            )
        return InvalidDocumentError(
            f"not valid YAML: {_one_line(reason)}",
            path=source,
            line=mark.line + 1 if mark else None,
            column=mark.column + 1 if mark else None,
        )
    return InvalidDocumentError(f"not valid YAML: {_one_line(str(exc))}", path=source)


def _indentation_tab(data: bytes, error_line: int | None) -> tuple[int, int] | None:
    """(line, column) of a tab in the indentation of the line an error points at (0-based
    ``error_line``) or of an earlier line; None when the indentation has no tab."""
    if error_line is None:
        return None
    lines = data.split(b"\n")[: error_line + 1]
    for index in range(len(lines) - 1, -1, -1):
        line = lines[index]
        indent = line[: len(line) - len(line.lstrip(b" \t"))]
        if b"\t" in indent and line.strip():
            return index + 1, indent.index(b"\t") + 1
    return None


def _one_line(text: str) -> str:
    return " ".join(text.split())


def join(base: str, segment: str) -> str:
    """The field path ``base.segment`` (``base["segment"]`` when the segment needs quoting)."""
    if _SIMPLE_SEGMENT.match(segment):
        return f"{base}.{segment}" if base else segment
    return f"{base}[{json.dumps(segment, ensure_ascii=False)}]"


def _approximate_depth_bound(data: bytes) -> int:
    """An upper bound of the nesting depth: flow brackets plus block indentation per line."""
    longest_line = max(map(len, data.split(b"\n")), default=0)
    return data.count(b"[") + data.count(b"{") + 2 * longest_line + 2


class NodeLoader(_BaseLoader):
    """Safe loader (C when available) that composes nodes for validation by a subclass.

    Going through the node graph rather than constructed objects gives every error a line and
    column, finds duplicate keys, and bounds alias expansion before anything walks it.
    """

    # Dates stay strings: a JSON column cannot hold datetime values, and the dumper quotes them.
    yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != TAG + "timestamp"]
        for first, resolvers in _BaseLoader.yaml_implicit_resolvers.items()
    }

    def __init__(self, data: bytes, source: str) -> None:
        super().__init__(data)
        self.source = source
        self._data = data
        self._checked_mappings: set[int] = set()

    def compose_root(self) -> Node | None:
        """The root node (None for an empty document) after the depth and alias-bomb checks."""
        if _approximate_depth_bound(self._data) > _MAX_COMPOSE_DEPTH:
            self._check_event_depth()
        root = self.get_single_node()
        if root is not None and b"&" in self._data:  # no anchor, no alias: nothing can expand
            self._check_expansion(root)
        return root

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

    # -- generic helpers ---------------------------------------------------------------------

    def _pairs(self, node: MappingNode, where: str) -> list[tuple[str, Node, Node]]:
        """(key, key node, value node) with string keys, no duplicates, ``<<`` merges applied."""
        self._check_keys(node, where)
        if any(key.tag == MERGE for key, _value in node.value):
            self.flatten_mapping(node)
            merged: dict[str, tuple[str, Node, Node]] = {}
            for key_node, value in node.value:
                merged[key_node.value] = (key_node.value, key_node, value)
            return list(merged.values())
        return [(key_node.value, key_node, value) for key_node, value in node.value]

    def _check_keys(self, node: MappingNode, where: str) -> None:
        if id(node) in self._checked_mappings:
            return
        if node.tag != MAP:
            raise self._error(f"unsupported mapping type {node.tag}", node, where)
        seen: dict[str, Node] = {}
        for key_node, value in node.value:
            if key_node.tag == MERGE:
                sources = value.value if isinstance(value, SequenceNode) else [value]
                for source in sources:
                    if isinstance(source, MappingNode):
                        self._check_keys(source, where)
                continue
            if not isinstance(key_node, ScalarNode) or key_node.tag != STR:
                raise self._error(
                    f"keys must be strings, {not_a_string(key_node)}",
                    key_node,
                    where,
                )
            name = key_node.value
            if name in seen:
                first = seen[name].start_mark.line + 1
                raise self._error(
                    f"duplicate key {name!r} (first defined on line {first})",
                    key_node,
                    join(where, name),
                )
            if key_node.style == '"' and UNSTORABLE.search(name):
                raise self._error(UNSTORABLE_REASON, key_node, where)
            seen[name] = key_node
        self._checked_mappings.add(id(node))

    def _string(self, node: Node, where: str, *, secret: bool = False) -> str:
        if isinstance(node, ScalarNode) and node.tag == STR:
            value: str = node.value
            if node.style == '"' and UNSTORABLE.search(value):
                raise self._error(UNSTORABLE_REASON, node, where)
            return value
        raise self._error(f"must be a string, {not_a_string(node, secret=secret)}", node, where)

    def _plain(self, node: Node, where: str, depth: int) -> Any:
        """A value as JSON-compatible data (strings, numbers, booleans, null, lists, mappings)."""
        if depth > MAX_DEPTH:
            raise self._error(f"nested more than {MAX_DEPTH} levels deep", node, where)
        if isinstance(node, ScalarNode):
            if node.tag == STR:
                return self._string(node, where)
            if node.tag in _PLAIN_SCALAR_TAGS:
                value = self.construct_object(node)
                if isinstance(value, float) and not math.isfinite(value):
                    raise self._error("NaN and infinite numbers cannot be stored", node, where)
                return value
        elif isinstance(node, SequenceNode) and node.tag == SEQ:
            return [
                self._plain(item, f"{where}[{index}]", depth + 1)
                for index, item in enumerate(node.value)
            ]
        elif isinstance(node, MappingNode) and node.tag == MAP:
            return {
                key: self._plain(value, join(where, key), depth + 1)
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


def _children(node: Node) -> list[Node]:
    if isinstance(node, SequenceNode):
        return list(node.value)
    if isinstance(node, MappingNode):
        return [part for pair in node.value for part in pair]
    return []


# What YAML made of an unquoted scalar, named as a user would say it.
_SCALAR_NAMES = {
    "int": "an integer",
    "float": "a number",
    "bool": "a boolean",
    "null": "null (an empty value)",
    "timestamp": "a date",
    "binary": "binary data",
}


def kind(node: Node, *, secret: bool = False) -> str:
    """What a node is, for messages: "a mapping", "an integer (12345)", "a boolean ('yes')".

    ``secret`` leaves the value out (an API key must never be echoed, even a mistyped one).
    """
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    tag = node.tag.removeprefix(TAG)
    if tag == "str":
        return "a string"
    if node.tag.startswith(TAG):
        name = _SCALAR_NAMES.get(tag, f"a {tag} value")
    else:
        name = f"a value tagged {node.tag}"
    if secret or tag == "null" or not isinstance(node, ScalarNode):
        return name
    shown = node.value if tag in ("int", "float") else repr(node.value)
    return f"{name} ({shown})"


def not_a_string(node: Node, *, secret: bool = False) -> str:
    """Why ``node`` is not a string and how to make it one: "not an integer (12345); quote it"."""
    found = kind(node, secret=secret)
    if isinstance(node, MappingNode | SequenceNode):
        return f"not {found}"
    if node.tag == TAG + "null":
        return f"not {found}; write '' for an empty string"
    if secret:
        return f"not {found}; quote it to make it a string (api_key: '...')"
    return f"not {found}; quote it to make it a string ('{node.value}')"
