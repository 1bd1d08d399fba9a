"""Where a provider's API key comes from: the stored key, or its environment variable.

The placeholder rule (the legacy loader's): a stored key that is empty, whitespace only, or ends
with ``not-configured`` (spaces around it ignored) is a placeholder; the environment supplies the
real key at use time. ``providers list``, discovery and :func:`effective_api_key` all decide with
:func:`is_placeholder_key`. A legacy YAML file may hold a placeholder (it is kept as written, so
the file exports back unchanged); :func:`check_new_api_key` (``keys set``) never stores one.

The key rule (:func:`api_key_problem`), the same at every door: at most
:data:`~provider_store.rules.limits.MAX_API_KEY_LENGTH` characters; a real key is visible ASCII
(no spaces, control characters or other letters: it travels in an HTTP header).

Masking (:func:`mask_key_echoes`): a provider's error body that echoes the key, verbatim or
transformed (spaced out, reversed, in other case), is masked before it is stored or shown.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

from provider_store.errors import InvalidDocumentError
from provider_store.rules.limits import MAX_API_KEY_LENGTH, UNSTORABLE, UNSTORABLE_REASON

__all__ = [
    "KEYLESS_API_KEY",
    "KEY_SOURCES",
    "KEY_RUN",
    "NOT_CONFIGURED_SUFFIX",
    "api_key_problem",
    "check_new_api_key",
    "effective_api_key",
    "env_var_for",
    "env_var_in_use",
    "env_var_names",
    "is_placeholder_key",
    "key_source",
    "mask_key_echoes",
]

NOT_CONFIGURED_SUFFIX = "not-configured"
_NON_IDENTIFIER = re.compile(r"[^A-Za-z0-9_]")
_VISIBLE_ASCII = re.compile(r"[\x21-\x7e]+")
# This many consecutive characters of a key are masked wherever they appear.
KEY_RUN = 8


def is_placeholder_key(api_key: str | None) -> bool:
    """True when a stored key stands for "take it from the environment": empty, whitespace
    only, or ending with ``not-configured`` once the spaces around it are stripped."""
    text = (api_key or "").strip()
    return not text or text.endswith(NOT_CONFIGURED_SUFFIX)


def api_key_problem(api_key: object) -> str | None:
    """Why ``api_key`` cannot be stored as a provider's key, or None (the rule is in the module
    docstring). The message never repeats the key."""
    if not isinstance(api_key, str):
        return f"an API key must be a string, not {type(api_key).__name__}"
    if len(api_key) > MAX_API_KEY_LENGTH:
        return (
            f"an API key is at most {MAX_API_KEY_LENGTH} characters (this one has {len(api_key):,})"
        )
    if UNSTORABLE.search(api_key):
        return f"the API key {UNSTORABLE_REASON}"
    if is_placeholder_key(api_key):
        return None
    if not _VISIBLE_ASCII.fullmatch(api_key):
        return (
            "an API key holds only visible ASCII characters (no spaces, control characters"
            " or other letters)"
        )
    return None


def check_new_api_key(provider_key: str, api_key: str) -> str:
    """``api_key`` (spaces around it removed) as a key to store for ``provider_key``.

    InvalidDocumentError, never repeating the key, for an empty key, a placeholder (the
    environment supplies it: never stored) or a key :func:`api_key_problem` refuses.
    """
    text = api_key.strip()
    field = f"providers.{provider_key}.api_key"
    if not text:
        raise InvalidDocumentError("the API key must not be empty", field=field)
    if is_placeholder_key(text):
        raise InvalidDocumentError(
            f"a placeholder ('...{NOT_CONFIGURED_SUFFIX}') is never stored; forget the stored"
            f" key instead (keys unset {provider_key}) and ${env_var_for(provider_key)}"
            " supplies it",
            field=field,
        )
    problem = api_key_problem(text)
    if problem is not None:
        raise InvalidDocumentError(problem, field=field)
    return text


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


# -- masking --------------------------------------------------------------------------------------


def mask_key_echoes(text: str, secret: str | None) -> str:
    """``text`` with the key masked: every run of :data:`KEY_RUN` or more consecutive characters
    of ``secret`` (the whole key, a truncated echo of it, any slice of it) becomes ``***``, and
    so does a stretch of ``text`` whose letters and digits spell such a run of the key's letters
    and digits forwards or backwards, in any case (the key spaced out, dotted, reversed,
    upper-cased).

    A key shorter than :data:`KEY_RUN` characters is masked where it appears whole. The cost
    grows with ``text``: mask what is shown (an excerpt, a header value), not whole bodies.
    """
    if not secret or not text:
        return text
    if len(secret) < KEY_RUN:
        return text.replace(secret, "***")
    spans = [(m.start(), m.start() + KEY_RUN) for m in _key_runs(secret).finditer(text)]
    spans.extend(_spelled_runs(text, secret))
    if not spans:
        return text
    pieces: list[str] = []
    end = 0  # where the masked region being built ends
    for start, stop in sorted(spans):
        if start > end or not pieces:  # a new region: keep the text before it
            pieces.append(text[end:start])
            pieces.append("***")
        end = max(end, stop)
    pieces.append(text[end:])
    return "".join(pieces)


def _key_runs(secret: str) -> re.Pattern[str]:
    """Matches (empty, by lookahead) where any 8 consecutive characters of ``secret`` begin."""
    runs = {secret[i : i + KEY_RUN] for i in range(len(secret) - KEY_RUN + 1)}
    return re.compile("(?=" + "|".join(re.escape(run) for run in sorted(runs)) + ")")


def _spelled_runs(text: str, secret: str) -> list[tuple[int, int]]:
    """Spans of ``text`` whose letters and digits, case folded, spell KEY_RUN consecutive
    letters and digits of ``secret`` forwards or backwards."""
    letters = "".join(c for c in secret.casefold() if c.isalnum())
    if len(letters) < KEY_RUN:
        return []
    runs = {letters[i : i + KEY_RUN] for i in range(len(letters) - KEY_RUN + 1)}
    backwards = letters[::-1]
    runs |= {backwards[i : i + KEY_RUN] for i in range(len(backwards) - KEY_RUN + 1)}
    where = [i for i, c in enumerate(text) if c.isalnum()]
    spelled = "".join(text[i] for i in where).casefold()
    if len(spelled) != len(where):  # a letter whose case folding is longer: compare as is
        spelled = "".join(text[i] for i in where).lower()
        if len(spelled) != len(where):
            return []
    pattern = re.compile("(?=" + "|".join(re.escape(run) for run in sorted(runs)) + ")")
    return [
        (where[m.start()], where[m.start() + KEY_RUN - 1] + 1) for m in pattern.finditer(spelled)
    ]


# What an OpenAI client is given as the key of a keyless provider (option ``no_key``): it
# refuses to run without a key, and would otherwise send ``$OPENAI_API_KEY``.
KEYLESS_API_KEY = "no-key"

# Where a provider's API key comes from.
KEY_SOURCES = ("keyless", "stored", "env", "missing")


def key_source(
    key: str,
    api_key: str,
    options: Mapping[str, Any] | None,
    environ: Mapping[str, str] | None = None,
) -> tuple[str, str | None]:
    """Where provider ``key``'s API key comes from (one of :data:`KEY_SOURCES`), given its
    stored ``api_key`` and ``options``, and the environment variable that supplies it
    (``env``) or would (``missing``); never the key."""
    if is_keyless(options):
        return "keyless", None
    if not is_placeholder_key(api_key):
        return "stored", None
    in_use = env_var_in_use(key, os.environ if environ is None else environ)
    return ("env", in_use) if in_use else ("missing", env_var_for(key))
