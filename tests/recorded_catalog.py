"""Recorded provider lists and the recorded LiteLLM cost map, put into a test's catalog.

The recorded material is third-party and stays outside the project: ``PROVIDER_STORE_ANSWERS_DIR``
names the folder of provider answers, ``PROVIDER_STORE_REGISTRIES_DIR`` the folder holding
LiteLLM's cost map. :func:`store_recorded` stores a recorded list as a provider's discovered
list, at the provider's real base URL (so that the host decides, as for a user), the way a
discovery stores it: the cache and the listed metadata.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest

from provider_store import ProviderConfig, ProviderStore
from provider_store.providers.listed_info import model_infos

ANSWERS_ENV = "PROVIDER_STORE_ANSWERS_DIR"
REGISTRIES_ENV = "PROVIDER_STORE_REGISTRIES_DIR"
LITELLM_NAME = "litellm-model-prices-1.110.2.json"

needs_recorded = pytest.mark.skipif(
    not os.environ.get(ANSWERS_ENV) or not os.environ.get(REGISTRIES_ENV),
    reason=f"{ANSWERS_ENV} and {REGISTRIES_ENV} name the recorded provider lists and cost map",
)

# Real base URLs of the recorded providers.
OPENAI = "https://api.openai.com/v1"
MISTRAL = "https://api.mistral.ai/v1"
GROQ = "https://api.groq.com/openai/v1"
GEMINI = "https://generativelanguage.googleapis.com/v1beta"
DASHSCOPE_CHINA = "https://dashscope.aliyuncs.com/compatible-mode/v1"
DASHSCOPE_INTL = "https://dashscope-intl.aliyuncs.com/compatible-mode/v1"


def litellm_file() -> Path:
    """The recorded LiteLLM cost map (1.110.2)."""
    return Path(os.environ[REGISTRIES_ENV]) / LITELLM_NAME


def recorded_items(name: str) -> list[dict[str, Any]]:
    """The model items of the recorded list ``name`` (Gemini's ``models/`` prefixes dropped)."""
    document = json.loads((Path(os.environ[ANSWERS_ENV]) / name).read_bytes())
    items = document
    if isinstance(document, dict):
        items = next(document[k] for k in ("data", "models") if isinstance(document.get(k), list))
    found = []
    for item in items:
        item = dict(item)
        if "id" not in item:
            item["id"] = str(item["name"]).removeprefix("models/")
        found.append(item)
    return found


def store_recorded(
    store: ProviderStore, key: str, name: str, base_url: str, *, kind: str = "openai"
) -> list[str]:
    """Store the recorded list ``name`` as provider ``key``'s list; its model ids."""
    items = recorded_items(name)
    store.save_config(key, ProviderConfig(name=key, base_api_url=base_url, kind=kind))
    store.rows.write_cache(key, items, fetched_at=time.time())
    store.rows.write_model_infos(key, model_infos(items))
    return [item["id"] for item in items]
