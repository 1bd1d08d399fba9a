"""The per-provider model cap of a legacy YAML import, checked on the event stream.

A provider may list at most ``max_models`` models (``valid_models`` plus ``invalid_models``; the
default is discovery's cap, :data:`~provider_store.model_info.DEFAULT_MAX_MODELS`). The document
is read once: its lists are counted as the document is built from the composed nodes
(:mod:`~provider_store.legacy.document`). Composing builds a node per scalar, though, so a file
of two million models would take gigabytes before anything could be said: a file larger than
:data:`COMPOSE_BYTES` (which composes in a few hundred MB at most) is first checked by
:func:`check_model_counts`, which walks the parser's events (constant memory) and stops at the
first model past the cap, naming the provider and the line.
"""

from __future__ import annotations

from dataclasses import dataclass

import yaml

from provider_store.errors import InvalidDocumentError

__all__ = ["COMPOSE_BYTES", "MODEL_LISTS", "check_model_counts", "too_many_models"]

try:  # libyaml's C parser is several times faster
    from yaml import CSafeLoader as _EventLoader
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    from yaml import SafeLoader as _EventLoader  # type: ignore[assignment]

MODEL_LISTS = ("valid_models", "invalid_models")
# Each listed model takes at least this many bytes ("a," in a flow sequence): a smaller file
# cannot exceed the cap, and is not scanned twice.
_MIN_BYTES_PER_MODEL = 2
# A file up to this size is composed at once (about 50 bytes of memory per byte of YAML at
# worst) and its lists counted on the nodes; a larger one is walked as events first.
COMPOSE_BYTES = 8 * 1024 * 1024


@dataclass
class _Frame:
    is_map: bool
    path: tuple[str, ...] | None  # None inside a complex key (never a model list)
    expect_key: bool = True
    key: str = ""


def too_many_models(provider: str, max_models: int) -> str:
    """The reason given when ``provider`` lists more than ``max_models`` models."""
    return (
        f"provider {provider} lists more than {max_models:,} models (valid_models plus"
        " invalid_models), the per-provider cap; raise it with --max-models"
    )


def check_model_counts(data: bytes, source: str, max_models: int) -> None:
    """InvalidDocumentError at the first model past ``max_models`` in one provider's lists.

    Only a file larger than :data:`COMPOSE_BYTES` is walked (a smaller one is counted as it
    is built); anything else wrong with the document is left to the full load.
    """
    if len(data) <= COMPOSE_BYTES or len(data) < _MIN_BYTES_PER_MODEL * max_models:
        return
    parser = _EventLoader(data)
    counts: dict[str, int] = {}
    frames: list[_Frame] = []
    try:
        while parser.check_event():
            event = parser.get_event()
            if isinstance(event, yaml.CollectionEndEvent):
                frames.pop()
                _value_done(frames)
                continue
            if not isinstance(event, yaml.NodeEvent):
                continue  # stream and document boundaries
            parent = frames[-1] if frames else None
            is_key = parent is not None and parent.is_map and parent.expect_key
            if parent is not None and parent.path is not None and _is_model_list(parent.path):
                if is_key or not parent.is_map:
                    provider = parent.path[1]
                    counts[provider] = counts.get(provider, 0) + 1
                    if counts[provider] > max_models:
                        mark = event.start_mark
                        raise InvalidDocumentError(
                            too_many_models(provider, max_models),
                            path=source,
                            line=mark.line + 1 if mark else None,
                            field=".".join(parent.path),
                        )
            if isinstance(event, yaml.CollectionStartEvent):
                frames.append(
                    _Frame(
                        is_map=isinstance(event, yaml.MappingStartEvent),
                        path=None if is_key else _child_path(parent),
                    )
                )
                continue
            if is_key and parent is not None:
                parent.key = event.value if isinstance(event, yaml.ScalarEvent) else ""
                parent.expect_key = False
            else:
                _value_done(frames)
    except yaml.YAMLError:
        return  # the full load reports it, with its line
    finally:
        parser.dispose()


def _is_model_list(path: tuple[str, ...]) -> bool:
    return len(path) == 3 and path[0] == "providers" and path[2] in MODEL_LISTS


def _child_path(parent: _Frame | None) -> tuple[str, ...] | None:
    if parent is None:
        return ()
    if parent.path is None:
        return None
    return parent.path + (parent.key,) if parent.is_map else None


def _value_done(frames: list[_Frame]) -> None:
    """A node finished: if it was a mapping's value (or key), the mapping turns to the next."""
    if frames and frames[-1].is_map:
        frames[-1].expect_key = not frames[-1].expect_key
