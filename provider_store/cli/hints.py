"""What the CLI tells a user about where a setting comes from and what to do next.

Shared by the listing and discovery commands so that each hint is worded once.
"""

from __future__ import annotations

from provider_store.provider_config import ProviderConfig
from provider_store.rules.api_keys import key_source

# Shown (on stderr) by the commands that list or discover an empty catalog.
NO_PROVIDERS = "No providers. Add one with `provider-store providers add KEY URL` or `import FILE`."
# HTTP statuses with which a provider refuses the key itself.
KEY_REFUSED = frozenset({401, 403})
# How a ping's provider problem starts when the key was refused (discovery.verdicts words it).
KEY_REJECTED_PROBLEM = "API key rejected"


def key_source_text(source: str, variable: str | None) -> str:
    """The one wording of a key source, in ``providers list``, ``providers show`` and
    ``keys list``: ``keyless``, ``stored``, ``env $VAR`` or ``missing: set $VAR``."""
    if source == "env":
        return f"env ${variable}"
    if source == "missing":
        return f"missing: set ${variable}"
    return source


def key_origin(key: str, config: ProviderConfig) -> str:
    """Where the key sent to provider ``key`` came from, for a message about a refused key."""
    source, variable = key_source(key, config.api_key, config.options)
    if source == "stored":
        return "key stored in the catalog"
    return f"key from ${variable}"
