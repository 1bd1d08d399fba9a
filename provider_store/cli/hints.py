"""What the CLI tells a user about where a setting comes from and what to do next.

Shared by the listing and discovery commands so that each hint is worded once.
"""

from __future__ import annotations

import os

from provider_store.provider_config import ProviderConfig
from provider_store.rules import env_var_for, env_var_in_use, is_keyless, is_placeholder_key

# Shown (on stderr) by the commands that list or discover an empty catalog.
NO_PROVIDERS = "No providers. Add one with `provider-store providers add KEY URL` or `import FILE`."
# HTTP statuses with which a provider refuses the key itself.
KEY_REFUSED = frozenset({401, 403})
# How a ping's provider problem starts when the key was refused (discovery.verdicts words it).
KEY_REJECTED_PROBLEM = "API key rejected"


def key_source(key: str, config: ProviderConfig) -> tuple[str, str | None]:
    """Where the key comes from (stored, env, missing) and the variable that does or would
    supply it (never the key itself)."""
    if is_keyless(config.options):
        return "keyless", None
    if not is_placeholder_key(config.api_key):
        return "stored", None
    in_use = env_var_in_use(key, os.environ)
    return ("env", in_use) if in_use else ("missing", env_var_for(key))


def key_origin(key: str, config: ProviderConfig) -> str:
    """Where the key sent to provider ``key`` came from, for a message about a refused key."""
    source, variable = key_source(key, config)
    if source == "stored":
        return "key stored in the catalog"
    return f"key from ${variable}"
