"""The ASGI application: the routes of :mod:`provider_store.serve.routes` behind the request
guard (limits, methods, read token), with CORS only for the origin asked for, and every error
answered as JSON: a bad query is a 400 naming the parameter, an unknown path a 404, anything
unexpected a 500 that says nothing more (it is logged, without the request's headers).
"""

from __future__ import annotations

import logging
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import Response

from provider_store.serve.access_rules import RequestGuard, error_body
from provider_store.serve.change_stream import ChangeBroadcast
from provider_store.serve.query_params import BadQuery
from provider_store.serve.routes import Endpoints
from provider_store.serve.served_view import CatalogMirror

__all__ = ["build_app"]

logger = logging.getLogger(__name__)


def _answer(status: int, message: str, param: str | None = None) -> Response:
    return Response(
        error_body(status, message, param), status_code=status, media_type="application/json"
    )


async def _bad_query(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, BadQuery)
    return _answer(400, exc.message, exc.param)


async def _http_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    message = "no such endpoint" if exc.status_code == 404 else str(exc.detail)
    return _answer(exc.status_code, message)


async def _server_error(request: Request, exc: Exception) -> Response:
    logger.error("%s %s failed: %s", request.method, request.url.path[:200], type(exc).__name__)
    return _answer(500, "internal error")


def build_app(
    mirror: CatalogMirror,
    broadcast: ChangeBroadcast,
    *,
    token: str | None = None,
    cors_origin: str | None = None,
) -> Any:
    """The application over ``mirror`` (already started)."""
    middleware = []
    if cors_origin is not None:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=[cors_origin],
                allow_methods=["GET"],
                allow_headers=["Authorization", "If-None-Match", "Last-Event-ID"],
                expose_headers=["ETag"],
            )
        )
    app = Starlette(
        routes=Endpoints(mirror, broadcast).routes(),
        middleware=middleware,
        exception_handlers={
            BadQuery: _bad_query,
            HTTPException: _http_error,
            Exception: _server_error,
        },
    )
    return RequestGuard(app, token=token, cors=cors_origin is not None)
