"""Where a provider's API key comes from: the stored key, or its environment variable.

The placeholder rule (the legacy loader's): a stored key that is empty, whitespace only, or ends
with ``not-configured`` (spaces around it ignored) is a placeholder; the environment supplies the
real key at use time and it is never stored. ``providers list``, discovery and
:func:`effective_api_key` all decide with :func:`is_placeholder_key`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

__all__ = [
    "NOT_CONFIGURED_SUFFIX",
    "effective_api_key",
    "env_var_for",
    "env_var_in_use",
    "env_var_names",
    "is_placeholder_key",
]

NOT_CONFIGURED_SUFFIX = "not-configured"
_NON_IDENTIFIER = re.compile(r"[^A-Za-z0-9_]")


def is_placeholder_key(api_key: str | None) -> bool:
    """True when a stored key stands for "take it from the environment": empty, whitespace
    only, or ending with ``not-configured`` once the spaces around it are stripped."""
    text = (api_key or "").strip()
    return not text or text.endswith(NOT_CONFIGURED_SUFFIX)


def effective_api_key(
    provider_key: str, api_key: str, environ: Mapping[str, str] | None = None
) -> str:
    """The key to send: the stored one, or ``{KEY}_API_KEY`` from the environment.

    A placeholder (see :func:`is_placeholder_key`) is replaced by the first variable of
    :func:`env_var_names` that is set; with none set the placeholder itself comes back (and
    discovery reports the key as missing).
    """
    if not is_placeholder_key(api_key):
        return api_key
    env = os.environ if environ is None else environ
    name = env_var_in_use(provider_key, env)
    return env[name] if name is not None else api_key


def env_var_for(provider_key: str) -> str:
    """The environment variable that supplies a provider's key, e.g. ``OPENAI_API_KEY``.

    The key is upper-cased and every character a shell variable name cannot hold becomes
    ``_`` (``open-router`` -> ``OPEN_ROUTER_API_KEY``); a name that would start with a digit
    gets a leading ``_``.
    """
    name = _NON_IDENTIFIER.sub("_", provider_key.upper()) + "_API_KEY"
    return f"_{name}" if name[:1].isdigit() else name


def env_var_names(provider_key: str) -> list[str]:
    """The variables looked up for a provider's key, in order: :func:`env_var_for`, then the
    legacy ``{KEY.upper()}_API_KEY`` when it differs (kept as a fallback)."""
    names = [env_var_for(provider_key)]
    legacy = f"{provider_key.upper()}_API_KEY"
    if legacy not in names:
        names.append(legacy)
    return names


def env_var_in_use(provider_key: str, environ: Mapping[str, str] | None = None) -> str | None:
    """The first of :func:`env_var_names` set to a non-empty value, or None."""
    env = os.environ if environ is None else environ
    for name in env_var_names(provider_key):
        if env.get(name, "").strip():
            return name
    return None


# The connection option that marks a provider keyless on purpose (a local server).
NO_KEY_OPTION = "no_key"


def is_keyless(options: Mapping[str, Any] | None) -> bool:
    """True when a provider's connection options mark it keyless on purpose (``no_key: true``):
    no key is sent and a missing key is never a reason to skip it."""
    return bool(options) and (options or {}).get(NO_KEY_OPTION) is True
