"""The catalog commands, under the names this module used to define them.

They live in :mod:`provider_store.cli.providers` (``providers list``),
:mod:`provider_store.cli.models` (``models list``, ``resolve``, ``find``) and
:mod:`provider_store.cli.discover` (``discover``); importing this module registers them too.
"""

from __future__ import annotations

from provider_store.cli.discover import discover
from provider_store.cli.models import find, models, models_list, resolve
from provider_store.cli.providers import providers, providers_list

__all__ = ["discover", "find", "models", "models_list", "providers", "providers_list", "resolve"]
