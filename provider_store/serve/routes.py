"""The endpoints: each reads the current snapshot (or, for the feed and health, the catalog in
a worker thread) and answers JSON; a bad query is a :class:`BadQuery` (400, see
:mod:`provider_store.serve.http_app`)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from provider_store.catalog.migrate import SCHEMA_HEAD, current_revision
from provider_store.errors import AmbiguousModelError, UnknownModelError
from provider_store.history.feed import read_changes
from provider_store.serve.access_rules import error_body
from provider_store.serve.catalog_view import resolve
from provider_store.serve.change_stream import ChangeBroadcast, sse_frame, stream_frames
from provider_store.serve.openapi_spec import openapi_document
from provider_store.serve.prometheus_export import CONTENT_TYPE, metrics_text
from provider_store.serve.query_params import (
    changes_query,
    check_parameters,
    models_query,
    resolve_query,
)
from provider_store.serve.served_view import CatalogMirror, Snapshot

__all__ = ["Endpoints"]

JSON_TYPE = "application/json"


def _json(value: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    body = json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()
    return Response(body, status_code=status, media_type=JSON_TYPE, headers=headers)


def _error(status: int, message: str, **extra: Any) -> Response:
    body = json.loads(error_body(status, message))
    body["error"].update(extra)
    return _json(body, status)


def _matches(request: Request, etag: str) -> bool:
    """True when the request's If-None-Match names ``etag`` (or is ``*``)."""
    header = request.headers.get("if-none-match")
    if header is None:
        return False
    for tag in header.split(","):
        tag = tag.strip().removeprefix("W/")
        if tag in (etag, "*"):
            return True
    return False


def _accepts_gzip(request: Request) -> bool:
    accepted = request.headers.get("accept-encoding", "")
    for item in accepted.split(","):
        name, _semicolon, quality = item.strip().partition(";")
        if name.strip().lower() == "gzip":
            return quality.replace(" ", "") not in ("q=0", "q=0.0", "q=0.00", "q=0.000")
    return False


def _tagged(
    request: Request,
    snapshot: Snapshot,
    body: bytes | None,
    value: Any,
    compressed: bytes | None = None,
) -> Response:
    headers = {"ETag": snapshot.etag, "Cache-Control": "no-cache"}
    if compressed is not None:
        headers["Vary"] = "Accept-Encoding"
    if _matches(request, snapshot.etag):
        return Response(status_code=304, headers=headers)
    if compressed and _accepts_gzip(request):
        headers["Content-Encoding"] = "gzip"
        return Response(compressed, media_type=JSON_TYPE, headers=headers)
    if body is None:
        body = json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()
    return Response(body, media_type=JSON_TYPE, headers=headers)


@dataclass
class Endpoints:
    """The handlers over one mirror of the catalog."""

    mirror: CatalogMirror
    broadcast: ChangeBroadcast

    def routes(self) -> list[Route]:
        """Every route (HEAD is answered with GET's headers)."""
        return [
            Route("/v1/models", self.models, methods=["GET"]),
            Route("/v1/models/{provider}/{model:path}", self.model, methods=["GET"]),
            Route("/v1/resolve", self.resolve, methods=["GET"]),
            Route("/v1/changes", self.changes, methods=["GET"]),
            Route("/v1/changes/stream", self.stream, methods=["GET"]),
            Route("/metrics", self.metrics, methods=["GET"]),
            Route("/healthz", self.health, methods=["GET"]),
            Route("/openapi.json", self.openapi, methods=["GET"]),
        ]

    async def models(self, request: Request) -> Response:
        """``GET /v1/models``."""
        wanted = models_query(request.query_params.multi_items())
        snapshot = self.mirror.snapshot
        if wanted.is_default:
            return _tagged(request, snapshot, snapshot.usable_body, None, snapshot.usable_gzip)
        if _matches(request, snapshot.etag):
            return _tagged(request, snapshot, b"", None)
        return _tagged(
            request, snapshot, None, {"object": "list", "data": snapshot.entries(wanted)}
        )

    async def model(self, request: Request) -> Response:
        """``GET /v1/models/{provider}/{model}``."""
        check_parameters("/v1/models/{provider}/{model}", request.query_params.multi_items())
        provider, model = request.path_params["provider"], request.path_params["model"]
        snapshot = self.mirror.snapshot
        entry = snapshot.entry(provider, model)
        if entry is None:
            return _error(404, f"the catalog holds no model {provider}/{model}"[:600])
        return _tagged(request, snapshot, None, entry)

    async def resolve(self, request: Request) -> Response:
        """``GET /v1/resolve?model=...``."""
        text, strict = resolve_query(request.query_params.multi_items())
        snapshot = self.mirror.snapshot
        try:
            ref = resolve(snapshot.scope, text, strict=strict)
        except AmbiguousModelError as exc:
            return _error(409, str(exc), param="model", candidates=list(exc.candidates))
        except UnknownModelError as exc:
            return _error(404, str(exc), param="model", suggestions=list(exc.suggestions))
        return _json(
            {
                "id": str(ref),
                "provider": ref.provider,
                "model": ref.model,
                "alias": ref.alias,
                "candidates": list(ref.candidates),
                "ambiguous": len(ref.candidates) > 1,
                "skipped_prefix": ref.skipped_prefix,
                "model_object": snapshot.entry(ref.provider, ref.model),
            },
            headers={"ETag": snapshot.etag, "Cache-Control": "no-cache"},
        )

    async def changes(self, request: Request) -> Response:
        """``GET /v1/changes?since=CURSOR``."""
        cursor, limit, provider = changes_query("/v1/changes", request.query_params.multi_items())
        store = self.mirror.store

        def read() -> list[dict[str, Any]]:
            with store.read() as session:
                events = read_changes(session, after=cursor or 0, provider=provider, limit=limit)
            return [event.as_json() for event in events]

        data = await run_in_threadpool(read)
        last = data[-1]["id"] if data else (cursor or 0)
        return _json(
            {"object": "list", "data": data, "cursor": str(last), "more": len(data) == limit}
        )

    async def stream(self, request: Request) -> Response:
        """``GET /v1/changes/stream``: Server-Sent Events."""
        cursor, _limit, _provider = changes_query(
            "/v1/changes/stream",
            request.query_params.multi_items(),
            request.headers.get("last-event-id"),
        )
        queue = self.broadcast.subscribe()
        if queue is None:
            return _error(503, "too many open streams, or the server is stopping")
        snapshot = self.mirror.snapshot
        first = [sse_frame("hello", {"etag": snapshot.etag, "cursor": str(self.mirror.feed_head)})]
        if cursor is not None:
            store = self.mirror.store

            def missed() -> list[bytes]:
                with store.read() as session:
                    events = read_changes(session, after=cursor, limit=1000)
                return [sse_frame("change", e.as_json(), str(e.id)) for e in events]

            try:
                first += await run_in_threadpool(missed)
            except BaseException:
                self.broadcast.unsubscribe(queue)
                raise
        return StreamingResponse(
            stream_frames(self.broadcast, queue, first),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    async def metrics(self, request: Request) -> Response:
        """``GET /metrics``."""
        check_parameters("/metrics", request.query_params.multi_items())
        body = await run_in_threadpool(metrics_text, self.mirror)
        return Response(body, media_type=CONTENT_TYPE)

    async def health(self, request: Request) -> Response:
        """``GET /healthz``: the catalog reachable and its schema current."""
        check_parameters("/healthz", request.query_params.multi_items())
        store = self.mirror.store

        def look() -> tuple[bool, str, str | None]:
            try:
                store.rows.change_tokens()
                revision = current_revision(store.engine)
            except Exception:  # noqa: BLE001 - any database failure is "unhealthy"
                # No detail: /healthz answers without a token.
                return False, "the catalog is unreachable", None
            if revision != SCHEMA_HEAD:
                return False, f"the schema is at {revision}, not {SCHEMA_HEAD}", revision
            return True, "ok", revision

        healthy, reason, revision = await run_in_threadpool(look)
        snapshot = self.mirror.snapshot
        return _json(
            {
                "status": "ok" if healthy else "unhealthy",
                "reason": reason,
                "schema": revision,
                "etag": snapshot.etag,
                "following": self.mirror.reachable,
            },
            200 if healthy else 503,
        )

    async def openapi(self, request: Request) -> Response:
        """``GET /openapi.json``."""
        check_parameters("/openapi.json", request.query_params.multi_items())
        return _json(openapi_document())
