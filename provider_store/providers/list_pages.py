"""Model lists as real providers send them: shapes, ids, paging, caps and hostile ids.

Shapes (one page): ``{"data": [...]}`` with or without ``object``; a bare array (Together, GitHub
Models, Heroku); ``{"models": [...]}`` (Ollama ``/api/tags``, Gemini, Cohere, LM Studio, xAI
language models); both ``data`` and ``models`` (llama.cpp, where ``data`` wins); ``"data": null``
is an empty list (Ollama with nothing pulled).

Ids: an item is a JSON object; its id is its ``id`` string, else (no ``id`` member at all) the
first string of ``model_id``, ``name``, ``model``, ``key``, with a ``models/`` prefix removed
(Gemini). The item keeps every raw field; ``id`` is set to the normalised id, and a raw ``name``
stays as it was.

Paging (one rule for every kind): ``has_more: true`` continues after ``last_id`` (or the last
item's id) with ``after_id`` and ``limit``; ``next_page_token`` continues with ``page_token``,
``nextPageToken`` with ``pageToken``. A loop (a cursor seen twice) and more than ``max_pages``
pages are errors; so is a list longer than ``max_models``. Any failure fails the whole list:
a partial list is never returned as complete.

Hostile ids are skipped, counted and logged once per list, never stored: an empty id, one longer
than :data:`~provider_store.rules.MAX_TEXT_LENGTH` characters, or one holding a control character
(NUL included), a lone surrogate or U+FFFE/U+FFFF; so is an id holding the API key, or any run of 8
or more of its characters (:func:`without_key_echoes`, which also masks such runs in the item's
other strings before anything is stored). What discovery stores therefore always exports to YAML
and imports again. A later duplicate of an id already listed is dropped. Strings elsewhere in a
kept item lose NUL and lone surrogates (replaced by U+FFFD) so every item can be stored on every
backend.
"""

from __future__ import annotations

import json
import logging
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from provider_store.errors import BadResponseError, NotAListError
from provider_store.providers.http_responses import KEY_RUN, safe_url, scrub
from provider_store.providers.list_body import LIST_KEYS, NOT_JSON, scan_list_body
from provider_store.rules import DEFAULT_MAX_MODELS, MAX_TEXT_LENGTH
from provider_store.rules.limits import DEFAULT_MAX_PAGES, DEFAULT_PAGE_LIMIT

logger = logging.getLogger(__name__)

__all__ = [
    "DEFAULT_MAX_MODELS",
    "DEFAULT_MAX_PAGES",
    "DEFAULT_PAGE_LIMIT",
    "ListLimits",
    "Page",
    "collect_pages",
    "parse_page",
    "unusable_id_reason",
    "without_key_echoes",
]

ID_FIELDS = ("model_id", "name", "model", "key")
_NONCHARACTERS = frozenset("\ufffe\uffff")
# A NUL or a surrogate, escaped or (UTF-8 with surrogatepass) raw: only then are items cleaned.
_UNSTORABLE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F][0-9a-fA-F]{2})|\xed[\xa0-\xbf]")


@dataclass(frozen=True)
class ListLimits:
    """Bounds on one provider's list: total models and pages, and the page size asked for."""

    max_models: int = DEFAULT_MAX_MODELS
    max_pages: int = DEFAULT_MAX_PAGES
    page_limit: int = DEFAULT_PAGE_LIMIT


@dataclass
class Page:
    """One parsed page: its items (ids normalised), the next page's query, skipped-id count."""

    items: list[dict[str, Any]]
    next_query: dict[str, str] | None = None
    skipped: int = 0
    skipped_examples: list[str] = field(default_factory=list)


def unusable_id_reason(model_id: str) -> str | None:
    """Why ``model_id`` cannot be stored and exported, or None when it can."""
    if not model_id:
        return "empty"
    if len(model_id) > MAX_TEXT_LENGTH:
        return f"longer than {MAX_TEXT_LENGTH} characters"
    if model_id.isascii():
        return None if model_id.isprintable() else "holds a control character"
    for char in model_id:
        category = unicodedata.category(char)
        if category == "Cc":
            return "holds a control character"
        if category == "Cs":
            return "holds a lone surrogate"
        if char in _NONCHARACTERS:
            return "holds a non-character"
    return None


def without_key_echoes(
    where: str, items: list[dict[str, Any]], secret: str | None
) -> list[dict[str, Any]]:
    """``items`` without those whose id holds ``secret`` (or a run of 8+ of its characters),
    and with such runs in every other string (keys and values) masked as ``***``.

    A provider that echoes the key it was sent must not get it stored, printed or exported.
    Keys shorter than 8 characters are left alone (too short to tell from ordinary text).
    Costs one scan of the encoded list when nothing echoes the key.
    """
    if not secret or len(secret) < KEY_RUN or not items:
        return items
    runs = {secret[i : i + KEY_RUN] for i in range(len(secret) - KEY_RUN + 1)}
    blob = json.dumps(items, ensure_ascii=False)
    if json.dumps(secret, ensure_ascii=False)[1:-1] == secret and not any(
        run in blob for run in runs
    ):
        return items
    kept: list[dict[str, Any]] = []
    skipped = 0
    for item in items:
        model_id = item.get("id")
        if isinstance(model_id, str) and any(run in model_id for run in runs):
            skipped += 1
            continue
        kept.append(_scrubbed(item, secret))
    if skipped:
        logger.warning(
            "%s: skipped %d listed model(s) whose id holds the API key; masked it elsewhere",
            where,
            skipped,
        )
    return kept


def _scrubbed(value: Any, secret: str) -> Any:
    if isinstance(value, str):
        return scrub(value, secret)
    if isinstance(value, dict):
        return {_scrubbed(k, secret): _scrubbed(v, secret) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrubbed(v, secret) for v in value]
    return value


def parse_page(
    url: str,
    body: bytes,
    *,
    room: int,
    page_limit: int = DEFAULT_PAGE_LIMIT,
    seen: set[str] | None = None,
) -> Page:
    """One ``/models`` answer as a :class:`Page` of at most ``room`` items.

    ``seen`` (updated) holds the ids already listed on earlier pages. Raises BadResponseError
    when the body is not a list shape, an item is not an object or has no usable id field, or it
    lists more than ``room`` items (the message then says so; the caller names the cap).
    """
    where = safe_url(url)
    try:
        scanned = scan_list_body(body, room=room)
    except NotAListError as exc:
        if exc.args and exc.args[0] == NOT_JSON:
            raise BadResponseError(f"{where} did not answer JSON") from exc
        raise BadResponseError(f"{where} answered JSON without a 'data' list ({exc})") from exc
    if scanned.overflow:
        raise _TooMany(f"{where} listed more models than the cap allows")
    raw_items = _items_of(where, scanned.lists, scanned.members)
    page = Page(items=[])
    seen = set() if seen is None else seen
    needs_cleaning = _UNSTORABLE.search(body) is not None
    for raw in raw_items:
        model_id = _id_of(where, raw)
        reason = unusable_id_reason(model_id)
        if reason is not None:
            page.skipped += 1
            if len(page.skipped_examples) < 3:
                page.skipped_examples.append(f"{ascii(model_id[:60])} ({reason})")
            continue
        if model_id in seen:
            continue
        seen.add(model_id)
        item = _clean(raw) if needs_cleaning else raw
        item["id"] = model_id
        page.items.append(item)
    page.next_query = _next_query(scanned.members, raw_items, page_limit)
    return page


def collect_pages(
    url: str,
    fetch: Callable[[Mapping[str, str] | None], bytes],
    limits: ListLimits,
) -> list[dict[str, Any]]:
    """Every page of a list: ``fetch(None)`` for the first, ``fetch(next_query)`` for the rest.

    Raises BadResponseError on a paging loop, more than ``limits.max_pages`` pages or more than
    ``limits.max_models`` models; whatever ``fetch`` raises propagates (no partial list).
    """
    where = safe_url(url)
    items: list[dict[str, Any]] = []
    seen: set[str] = set()
    cursors: set[tuple[tuple[str, str], ...]] = set()
    skipped, examples = 0, []
    query: Mapping[str, str] | None = None
    for _page in range(limits.max_pages):
        body = fetch(query)
        try:
            page = parse_page(
                url,
                body,
                room=limits.max_models - len(items),
                page_limit=limits.page_limit,
                seen=seen,
            )
        except _TooMany as exc:
            raise BadResponseError(
                f"{where} lists more than {limits.max_models} models, the per-provider cap "
                "(raise it with the provider option max_models)"
            ) from exc
        del body
        items.extend(page.items)
        skipped += page.skipped
        examples.extend(page.skipped_examples)
        if page.next_query is None:
            if skipped:
                logger.warning(
                    "%s: skipped %d listed model(s) with unusable ids, e.g. %s",
                    where,
                    skipped,
                    "; ".join(examples[:3]),
                )
            return items
        cursor = tuple(sorted(page.next_query.items()))
        if cursor in cursors:
            raise BadResponseError(f"{where}: paging repeats a cursor; the list never ends")
        cursors.add(cursor)
        query = page.next_query
    raise BadResponseError(f"{where}: more than {limits.max_pages} pages of models")


class _TooMany(BadResponseError):
    """A page held more items than the room left under the cap."""


def _items_of(where: str, lists: dict[str, list[Any]], members: dict[str, Any]) -> list[Any]:
    if "" in lists:
        return lists[""]
    for key in LIST_KEYS:
        if key in lists:
            return lists[key]
    for key in LIST_KEYS:
        if key in members and members[key] is None:
            return []
    raise BadResponseError(f"{where} answered JSON without a 'data' list (nor 'models')")


def _id_of(where: str, item: Any) -> str:
    if not isinstance(item, dict):
        raise BadResponseError(
            f"{where} answered JSON without a 'data' list of objects (an item is a "
            f"{type(item).__name__})"
        )
    if "id" in item:
        value = item["id"]
        if isinstance(value, str):
            return value
        raise BadResponseError(f"{where} listed a model without a string 'id'")
    for name in ID_FIELDS:
        value = item.get(name)
        if isinstance(value, str):
            return value.removeprefix("models/")
    raise BadResponseError(f"{where} listed a model without a string 'id'")


def _next_query(
    members: dict[str, Any], items: list[Any], page_limit: int
) -> dict[str, str] | None:
    if members.get("has_more") is True:
        last = members.get("last_id")
        if not isinstance(last, str) or not last:
            last = items[-1].get("id") if items and isinstance(items[-1], dict) else None
        if isinstance(last, str) and last and items:
            return {"after_id": last, "limit": str(page_limit)}
        return None
    for token_key, param in (("next_page_token", "page_token"), ("nextPageToken", "pageToken")):
        token = members.get(token_key)
        if isinstance(token, str) and token:
            return {param: token}
    return None


def _clean(value: Any) -> Any:
    """``value`` with NUL and lone surrogates in its strings replaced by U+FFFD."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            value = "".join("\ufffd" if 0xD800 <= ord(c) <= 0xDFFF else c for c in value)
        return value.replace("\x00", "\ufffd") if "\x00" in value else value
    if isinstance(value, dict):
        return {_clean(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value
