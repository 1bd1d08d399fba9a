"""Replay: every recorded ``/models`` body reads into ModelInfo values without an error.

The recorded answers are third-party material kept outside the project; set
``PROVIDER_STORE_ANSWERS_DIR`` to the folder that holds them (``*models*.json``) to run this test.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from provider_store.providers.listed_info import model_info

REPLAY_ENV = "PROVIDER_STORE_ANSWERS_DIR"
_LIST_KEYS = ("data", "models", "result")
_CONTEXT_KEYS = ("context_length", "context_window", "max_context_length", "max_model_len",
                 "inputTokenLimit", "max_input_tokens")  # fmt: skip


def recorded_lists() -> list[tuple[str, list[Any]]]:
    folder = os.environ.get(REPLAY_ENV)
    if not folder:
        return []
    found: list[tuple[str, list[Any]]] = []
    for path in sorted(Path(folder).glob("*models*.json")):
        if re.search(r"\.[45]\d\d\.json$", path.name):
            continue  # an error answer (its status is in the name), not a list
        try:
            body = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            continue  # a page of text, not a JSON body
        items: Any = body
        if isinstance(body, Mapping):
            if "error" in body:
                continue
            lists = [body[k] for k in _LIST_KEYS if isinstance(body.get(k), list)]
            items = lists[0] if lists else [body]
        if isinstance(items, list) and items:
            found.append((path.name, items))
    return found


LISTS = recorded_lists()


@pytest.mark.skipif(not LISTS, reason=f"set {REPLAY_ENV} to the recorded provider answers")
@pytest.mark.parametrize(("name", "items"), LISTS, ids=[name for name, _ in LISTS])
def test_recorded_items_read_into_model_info(name: str, items: list[Any]) -> None:
    for item in items:
        if not isinstance(item, Mapping):
            continue
        info = model_info(item)
        assert info.id, f"{name}: no id read from {sorted(item)[:8]}"
        stated = [item[k] for k in _CONTEXT_KEYS if isinstance(item.get(k), int) and item[k] > 0]
        if stated:
            assert info.context_length == stated[0], f"{name}: {info.id}"
        for price in (info.input_price, info.output_price):
            assert price is None or 0 <= price < 1000, f"{name}: {info.id} price {price}"
        assert all(c == c.lower() for c in info.capabilities), f"{name}: {info.id}"
