"""Replay ``/models`` answers recorded from real providers through each kind's list reader.

The recordings are third-party material kept outside the project; set
``PROVIDER_STORE_ANSWERS_DIR`` to the folder holding them (``.ci/run`` does when it exists).
Every ``*models*`` file there is served once from a loopback server and read by the kind its
provider speaks; the ids read must be the ids the body lists. Files that are not list bodies
(error answers, single-model answers, excerpts that are not valid JSON as recorded) are skipped
with the reason.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from provider_store.providers.base import ConnectionOptions
from provider_store.providers.client import ProviderClient
from provider_store.providers.kinds import kind_for

ANSWERS_ENV = "PROVIDER_STORE_ANSWERS_DIR"
ANSWERS = os.environ.get(ANSWERS_ENV, "")
KEY = "sk-replay-0123456789"

if not ANSWERS:
    pytest.skip(
        f"{ANSWERS_ENV} is not set: no recorded provider answers to replay",
        allow_module_level=True,
    )

# Which kind reads a provider's recorded list, by file-name prefix (default: openai).
KIND_BY_PREFIX = {"anthropic.": "anthropic", "gemini-native.": "gemini"}
# Where a provider's items carry their id, when it is not ``id``.
ID_FIELD_BY_PREFIX = {
    "gemini-native.": "name",
    "cohere.": "name",
    "lmstudio.api-v1.": "key",
    "heroku.": "model_id",
}
ERROR_NAME = re.compile(r"\.\d{3}\.(json|html|txt)$")


def recorded_lists() -> list[Path]:
    """Every ``*models*`` file of the answers folder, sorted."""
    return sorted(Path(ANSWERS).glob("*models*"))


def prefixed(table: dict[str, str], name: str, default: str) -> str:
    return next((value for prefix, value in table.items() if name.startswith(prefix)), default)


def expected_ids(document: Any, id_field: str) -> list[str]:
    """The ids the body lists, read with the provider's own id field, first occurrence kept."""
    if isinstance(document, list):
        items = document
    else:
        items = document.get("data") or document.get("models") or []
    found: list[str] = []
    for item in items:
        value = item[id_field]
        if id_field == "name":
            value = value.removeprefix("models/")
        if value not in found:
            found.append(value)
    return found


def more_pages(document: Any) -> bool:
    """Whether the body says a next page exists."""
    if not isinstance(document, dict):
        return False
    return document.get("has_more") is True or bool(
        document.get("nextPageToken") or document.get("next_page_token")
    )


def skip_reason(path: Path) -> str | None:
    """Why ``path`` is not a list body to replay, or None."""
    name = path.name
    if ERROR_NAME.search(name):
        return "an error answer, not a model list"
    try:
        document = json.loads(path.read_bytes())
    except ValueError:
        return "not valid JSON as recorded (see SOURCES.md)"
    if isinstance(document, dict) and not any(k in document for k in ("data", "models")):
        if "result" in document:
            return "Cloudflare's account API (result/result_info), not a provider kind's list"
        return "a single model or another object, not a model list"
    return None


@pytest.fixture
def client() -> Iterator[ProviderClient]:
    with ProviderClient(connect_timeout=2, read_timeout=5, deadline=20, backoff=0.01) as made:
        yield made


@pytest.mark.parametrize("path", recorded_lists(), ids=lambda p: p.name)
def test_a_recorded_list_yields_its_ids(
    client: ProviderClient, httpserver: HTTPServer, path: Path
) -> None:
    reason = skip_reason(path)
    if reason is not None:
        pytest.skip(f"{path.name}: {reason}")
    body = path.read_bytes()
    document = json.loads(body)
    kind = kind_for(prefixed(KIND_BY_PREFIX, path.name, "openai"), client)
    list_key = "models" if isinstance(document, dict) and "data" not in document else "data"
    served: list[str] = []

    def answer(request: Request) -> Response:
        served.append(request.query_string.decode())
        # The recorded page first; any next page it asks for is an empty last page.
        page = body if len(served) == 1 else json.dumps({list_key: []}).encode()
        return Response(page, content_type="application/json")

    httpserver.expect_request("/v1/models").respond_with_handler(answer)
    listed = kind.list_models(httpserver.url_for("/v1"), KEY, ConnectionOptions())
    id_field = prefixed(ID_FIELD_BY_PREFIX, path.name, "id")
    assert [item["id"] for item in listed] == expected_ids(document, id_field)
    assert len(served) == (2 if more_pages(document) else 1), served
