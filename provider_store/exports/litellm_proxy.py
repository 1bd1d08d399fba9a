"""The catalog as a LiteLLM proxy config, written so that ``litellm --config FILE`` starts and
serves every valid model as it is.

- ``model_list``: one entry per valid model, ``model_name`` its ``provider/model`` id;
  ``litellm_params`` route to the provider (``openai/<id>`` with ``api_base`` for every
  OpenAI-compatible provider, ``anthropic/<id>`` and ``gemini/<id>`` for the native kinds);
  ``model_info`` carries what the one model view knows (context, output limit, per-token prices
  as the source gave them, tools/vision/reasoning flags, ``deprecation_date``).
- ``router_settings.model_group_alias``: each alias of a model (``provider/alias``, and the bare
  alias where it names one model of the catalog) routes to its ``provider/model``.
- ``general_settings.master_key: os.environ/LITELLM_MASTER_KEY``: the proxy refuses to start
  without a master key; the user chooses it.
- Keys: ``api_key: os.environ/<PROVIDER>_API_KEY``; a key is written into the file only when
  asked (``include_keys``, and the file is then 0600). A keyless provider (option ``no_key``)
  gets the placeholder :data:`KEYLESS_API_KEY`: with no key at all, LiteLLM's OpenAI client
  falls back to ``$OPENAI_API_KEY`` or fails every request for missing credentials.

:attr:`LitellmConfig.variables` lists each environment variable the config reads and whether it
is set now, for the user to be told before starting the proxy.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from provider_store.exports.catalog_models import (
    KEYLESS_API_KEY,
    ExportedProvider,
    model_values,
    read_catalog,
    stored_keys,
)
from provider_store.legacy.export_target import check_export_target
from provider_store.legacy.exporter import write_atomic
from provider_store.registries.litellm import LITELLM_FLAGS, LITELLM_LIMITS, LITELLM_PRICES
from provider_store.rules import env_var_for

if TYPE_CHECKING:
    from provider_store.catalog.catalog_store import CatalogStore

__all__ = [
    "KEYLESS_API_KEY",
    "MASTER_KEY_VARIABLE",
    "ExpectedVariable",
    "LitellmConfig",
    "litellm_config",
]

logger = logging.getLogger(__name__)

# The variable LiteLLM's proxy reads its master key from (the key its clients send).
MASTER_KEY_VARIABLE = "LITELLM_MASTER_KEY"
_ENVIRON = "os.environ/"
_PER_TOKEN = -6  # the catalog's prices are per million tokens; LiteLLM's per token


@dataclass(frozen=True, slots=True)
class ExpectedVariable:
    """An environment variable the config reads when the proxy starts.

    ``provider`` is None for the proxy's master key; ``stored`` says the catalog holds the
    provider's key (which the user can set the variable to, or write into the file).
    """

    name: str
    is_set: bool
    provider: str | None = None
    stored: bool = False


@dataclass(frozen=True, slots=True)
class LitellmConfig:
    """A LiteLLM proxy config and what it needs from the environment.

    ``document`` is the config; ``variables`` each environment variable it reads (the master key
    first), ``keyless`` the providers sent :data:`KEYLESS_API_KEY`, ``holds_keys`` whether a key
    is written into it.
    """

    document: dict[str, Any]
    variables: list[ExpectedVariable] = field(default_factory=list)
    keyless: list[str] = field(default_factory=list)
    holds_keys: bool = False

    def to_bytes(self) -> bytes:
        """The config as YAML."""
        text = yaml.safe_dump(
            self.document, sort_keys=False, allow_unicode=True, default_flow_style=False
        )
        return text.encode("utf-8")


def litellm_config(
    store: CatalogStore,
    path: str | Path | None = None,
    *,
    include_keys: bool = False,
    environ: Mapping[str, str] | None = None,
) -> LitellmConfig:
    """The catalog's valid models as a LiteLLM proxy config (see the module docstring), written
    to ``path`` when given: atomically, and 0600 when it holds a key.

    ``include_keys`` writes each key the catalog holds into the config instead of naming its
    environment variable. ``environ`` (default ``os.environ``) says which variables are set.
    """
    if path is not None:
        check_export_target(path)  # before anything is read
    env = os.environ if environ is None else environ
    providers = [provider for provider in read_catalog(store) if provider.models]
    keys = stored_keys(store, [p.key for p in providers])
    entries: list[dict[str, Any]] = []
    aliases: dict[str, str] = {}
    variables = [ExpectedVariable(MASTER_KEY_VARIABLE, _is_set(env, MASTER_KEY_VARIABLE))]
    keyless: list[str] = []
    holds_keys = False
    for provider in providers:
        if provider.keyless:
            api_key = KEYLESS_API_KEY
            keyless.append(provider.key)
        elif include_keys and provider.key in keys:
            api_key = keys[provider.key]
            holds_keys = True
        else:
            name = env_var_for(provider.key)
            api_key = _ENVIRON + name
            variables.append(
                ExpectedVariable(name, _is_set(env, name), provider.key, provider.key in keys)
            )
        values = model_values(store, provider.key, [m.model_id for m in provider.models])
        for model in provider.models:
            entries.append(
                {
                    "model_name": model.name,
                    "litellm_params": _params(provider, model.model_id, api_key),
                    "model_info": {"mode": "chat", **_model_info(values.get(model.model_id, {}))},
                }
            )
            aliases.update(dict.fromkeys(model.aliases, model.name))
    document: dict[str, Any] = {"model_list": entries}
    if aliases:
        document["router_settings"] = {"model_group_alias": aliases}
    document["general_settings"] = {"master_key": _ENVIRON + MASTER_KEY_VARIABLE}
    config = LitellmConfig(document, variables, keyless, holds_keys)
    if path is not None:
        data = config.to_bytes()
        write_atomic(Path(path), data, private=holds_keys)
        logger.info("Exported a LiteLLM proxy config to %s (%d bytes)", path, len(data))
    return config


def _is_set(environ: Mapping[str, str], name: str) -> bool:
    return bool(environ.get(name, "").strip())


def _params(provider: ExportedProvider, model_id: str, api_key: str) -> dict[str, Any]:
    return {
        # LiteLLM's provider prefixes are our kind names (openai, anthropic, gemini).
        "model": f"{provider.kind}/{model_id}",
        "api_base": provider.base_api_url,
        "api_key": api_key,
    }


def _model_info(values: Mapping[str, Any]) -> dict[str, Any]:
    """LiteLLM's ``model_info`` keys for what the catalog knows (prices per token)."""
    info: dict[str, Any] = {}
    for name, key in LITELLM_LIMITS.items():
        if values.get(name) is not None:
            info[key] = values[name]
    if "max_input_tokens" not in info and values.get("context_length") is not None:
        # Without an input limit of its own, the context window bounds the input.
        info["max_input_tokens"] = values["context_length"]
    for name, key in LITELLM_PRICES.items():
        if values.get(name) is not None:
            info[key] = per_token(values[name])
    capabilities = values.get("capabilities") or ()
    for flag, key in LITELLM_FLAGS.items():
        if flag in capabilities:
            info[key] = True
    if values.get("deprecation_date"):
        info["deprecation_date"] = str(values["deprecation_date"])
    return info


def per_token(per_million: float) -> float:
    """A price per million tokens as LiteLLM's price per token, with the digits the source
    gave and no more (0.05 -> 5e-08, not 5.0000000000000004e-08)."""
    return float(Decimal(repr(float(per_million))).scaleb(_PER_TOKEN))
