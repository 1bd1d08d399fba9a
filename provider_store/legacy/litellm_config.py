"""The catalog as a LiteLLM proxy config (``model_list``), for people who run a LiteLLM proxy.

One entry per valid model: ``model_name`` is its alias (``provider/model`` when it has none, or
when several providers share the alias), ``litellm_params`` route to the provider
(``openai/<id>`` with ``api_base`` for every OpenAI-compatible provider, ``anthropic/<id>`` and
``gemini/<id>`` for the native kinds) and name the key's environment variable
(``os.environ/OPENAI_API_KEY``: a key is never written into the file), and ``model_info`` carries
what the catalog knows (context, output limit, prices per token, tools/vision/reasoning flags),
each value from its most trusted source.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

import yaml

from provider_store.catalog.model_facts import Sourced, provider_metadata
from provider_store.legacy.exporter import export_document
from provider_store.registries.litellm import LITELLM_FLAGS, LITELLM_LIMITS, LITELLM_PRICES
from provider_store.rules import env_var_for

if TYPE_CHECKING:
    from provider_store.catalog.catalog_store import CatalogStore

__all__ = ["litellm_config", "litellm_config_bytes"]


def litellm_config(store: CatalogStore) -> dict[str, Any]:
    """The catalog's valid models as a LiteLLM proxy config document."""
    document = export_document(store)
    aliases = Counter(
        alias
        for provider in document.providers.values()
        for model_id, alias in provider.valid_models.items()
        if alias != model_id
    )
    entries: list[dict[str, Any]] = []
    with store.read() as session:
        for key, provider in document.providers.items():
            if not provider.valid_models:
                continue
            metadata = provider_metadata(session, key, list(provider.valid_models))
            for model_id, alias in provider.valid_models.items():
                shared = alias == model_id or aliases[alias] > 1
                params: dict[str, Any] = {
                    # LiteLLM's provider prefixes are our kind names (openai, anthropic, gemini).
                    "model": f"{provider.kind}/{model_id}",
                    "api_base": provider.base_api_url,
                    "api_key": f"os.environ/{env_var_for(key)}",
                }
                entry: dict[str, Any] = {
                    "model_name": f"{key}/{model_id}" if shared else alias,
                    "litellm_params": params,
                }
                known = metadata[model_id].values if model_id in metadata else {}
                entry["model_info"] = {"mode": "chat", **_model_info(known)}
                entries.append(entry)
    return {"model_list": entries}


def litellm_config_bytes(store: CatalogStore) -> bytes:
    """:func:`litellm_config` as YAML bytes."""
    text = yaml.safe_dump(
        litellm_config(store), sort_keys=False, allow_unicode=True, default_flow_style=False
    )
    return text.encode("utf-8")


def _model_info(values: dict[str, Sourced]) -> dict[str, Any]:
    """LiteLLM's ``model_info`` keys for what the catalog knows (prices per token)."""
    info: dict[str, Any] = {}
    for field, name in LITELLM_LIMITS.items():
        if field in values:
            info[name] = values[field].value
    if "max_input_tokens" not in info and "context_length" in values:
        # Without an input limit of its own, the context window bounds the input.
        info["max_input_tokens"] = values["context_length"].value
    for field, name in LITELLM_PRICES.items():
        if field in values:
            info[name] = float(values[field].value) / 1_000_000
    capabilities = values["capabilities"].value if "capabilities" in values else []
    for flag, name in LITELLM_FLAGS.items():
        if flag in capabilities:
            info[name] = True
    return info
