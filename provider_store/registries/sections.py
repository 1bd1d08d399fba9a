"""Which registry section is which: the well-known API hosts, the sections one vendor spreads
over, the sections of local servers, and how provider names and hosts are compared.

Read by the matching rule (:mod:`provider_store.registries.entries`) and by the readers that
mark a section local.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from urllib.parse import urlsplit

__all__ = [
    "KNOWN_HOSTS",
    "LOCAL_SECTIONS",
    "SECTION_VENDORS",
    "canonical",
    "host_of",
    "is_local_host",
    "vendor_of",
]

# API hosts of well-known providers whose registry sections carry no URL: host -> the vendor's
# canonical name (see :func:`canonical`). A registry without a section of that name gives such
# a host nothing. LiteLLM's ``dashscope`` section holds the international prices, so Alibaba's
# China endpoint is ``alibabacn`` (models.dev's ``alibaba-cn``), not ``dashscope``.
KNOWN_HOSTS: Mapping[str, str] = {
    "api.openai.com": "openai",
    "api.anthropic.com": "anthropic",
    "generativelanguage.googleapis.com": "gemini",
    "api.groq.com": "groq",
    "api.mistral.ai": "mistral",
    "codestral.mistral.ai": "codestral",
    "api.together.xyz": "together",
    "api.together.ai": "together",
    "api.fireworks.ai": "fireworks",
    "api.deepseek.com": "deepseek",
    "api.x.ai": "x",
    "api.cerebras.ai": "cerebras",
    "api.perplexity.ai": "perplexity",
    "openrouter.ai": "openrouter",
    "api.cohere.com": "cohere",
    "api.cohere.ai": "cohere",
    "api.deepinfra.com": "deepinfra",
    "dashscope-intl.aliyuncs.com": "dashscope",
    "dashscope.aliyuncs.com": "alibabacn",
    "api.moonshot.ai": "moonshot",
    "api.moonshot.cn": "moonshotcn",
}

# Sections that belong to one vendor and are searched together, by the vendor's own section.
SECTION_VENDORS: Mapping[str, str] = {
    "cohere_chat": "cohere",
    "text-completion-openai": "openai",
    "text-completion-codestral": "codestral",
    "ollama_chat": "ollama",
}

# Registry sections of servers that run on the user's machine: their prices (often 0) say
# nothing about what the model costs.
LOCAL_SECTIONS = frozenset(
    {
        "ollama",
        "ollama_chat",
        "lm_studio",
        "lmstudio",
        "llamafile",
        "llamacpp",
        "vllm",
        "hosted_vllm",
        "lemonade",
        "xinference",
        "oobabooga",
        "docker_model_runner",
    }
)

# The same provider under another name in a registry (LiteLLM says "gemini", models.dev "google").
_SYNONYMS: Mapping[str, str] = {"google": "gemini"}

_PUNCTUATION = re.compile(r"[^a-z0-9]")


def canonical(name: str) -> str:
    """A provider name without case, punctuation or a trailing ``ai`` (``together_ai`` ->
    ``together``, ``fireworks-ai`` -> ``fireworks``, ``xai`` -> ``x``)."""
    folded = _PUNCTUATION.sub("", name.lower())
    if folded.endswith("ai") and len(folded) > 2 and folded != "openai":
        folded = folded[:-2]
    return _SYNONYMS.get(folded, folded)


def vendor_of(section: str) -> str:
    """The vendor whose sections ``section`` is searched with (itself for most sections)."""
    return SECTION_VENDORS.get(section, section)


def host_of(url: str) -> str:
    """The lower-cased host of ``url`` ("" when there is none)."""
    try:
        return (urlsplit(url.strip()).hostname or "").lower()
    except ValueError:
        return ""


def is_local_host(host: str) -> bool:
    """True for a loopback, private or link-local address or a local name (a user's server)."""
    if host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_private or address.is_link_local
