"""Values given to library calls (not read from a document): how they are bounded and how a
refusal names them.

- :func:`names_setting`: a refused setting of a provider edit says ``provider KEY, SETTING:
  why``, never a YAML document's field path (``providers.KEY.base_api_url``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast

from provider_store.errors import InvalidDocumentError

__all__ = ["names_setting"]

_Edit = TypeVar("_Edit", bound=Callable[..., Any])


def names_setting(edit: _Edit) -> _Edit:
    """Wrap the provider edit ``edit(self, key, ...)``: its InvalidDocumentError without a
    file position is raised again (same type) as ``provider KEY, SETTING: why``."""

    @functools.wraps(edit)
    def wrapper(self: Any, key: str, *args: Any, **kwargs: Any) -> Any:
        try:
            return edit(self, key, *args, **kwargs)
        except InvalidDocumentError as exc:
            if exc.path is not None or exc.line is not None:
                raise
            prefix = f"providers.{key}."
            setting = exc.field or ""
            setting = setting[len(prefix) :] if setting.startswith(prefix) else setting
            where = f"provider {key}, {setting}" if setting else f"provider {key}"
            raise type(exc)(f"{where}: {exc.reason}") from exc

    return cast(_Edit, wrapper)
