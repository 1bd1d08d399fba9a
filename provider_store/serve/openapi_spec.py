"""The OpenAPI 3.1 description of the server's endpoints (served at ``/openapi.json``).

The parameters of each endpoint are those :data:`~provider_store.serve.query_params.PARAMETERS`
lets through, so the description and the checks cannot drift apart.
"""

from __future__ import annotations

from typing import Any

from provider_store import __version__
from provider_store.serve.query_params import PARAMETERS

__all__ = ["openapi_document"]

_PARAMETER_DOCS: dict[str, dict[str, Any]] = {
    "provider": {
        "description": "Only this provider's models (its key).",
        "schema": {"type": "string"},
    },
    "capability": {
        "description": "Only models listed with this capability; repeatable.",
        "schema": {"type": "string"},
        "explode": True,
    },
    "min_context": {
        "description": "Only models with a context window of at least this many tokens.",
        "schema": {"type": "integer", "minimum": 0},
    },
    "include": {
        "description": (
            "usable (the default): the models of valid_models, missing ones included"
            " (as `models list`); all: every model, invalid and unverified too"
            " (as `models list --all`)."
        ),
        "schema": {"type": "string", "enum": ["usable", "all"]},
    },
    "model": {
        "description": "provider/model, provider/alias, an alias or a model id.",
        "schema": {"type": "string"},
        "required": True,
    },
    "strict": {
        "description": "Refuse a name several providers answer to (409) instead of picking one.",
        "schema": {"type": "boolean"},
    },
    "since": {
        "description": "A cursor: only events after it (the cursor of an earlier answer).",
        "schema": {"type": "integer", "minimum": 0},
    },
    "limit": {
        "description": "At most this many events.",
        "schema": {"type": "integer", "minimum": 1, "maximum": 1000},
    },
}

_ERROR = {
    "description": "An error, as OpenAI's API writes one (param names a bad query parameter).",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
}
_JSON = {"application/json": {"schema": {"type": "object"}}}

_OPERATIONS: dict[str, dict[str, Any]] = {
    "/v1/models": {
        "summary": "The usable models in OpenAI's list shape, each with the catalog's metadata.",
        "responses": {
            "200": {
                "description": "A list; ETag from the catalog's change tokens.",
                "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/ModelList"}}
                },
            },
            "304": {"description": "Unchanged since the If-None-Match ETag."},
            "400": _ERROR,
        },
    },
    "/v1/models/{provider}/{model}": {
        "summary": "One model of the catalog, whatever its status (as `models show`).",
        "responses": {
            "200": {"description": "The model object.", "content": _JSON},
            "304": {"description": "Unchanged since the If-None-Match ETag."},
            "404": _ERROR,
        },
    },
    "/v1/resolve": {
        "summary": "The valid model a name resolves to, with every candidate.",
        "responses": {
            "200": {"description": "The model and the candidates.", "content": _JSON},
            "400": _ERROR,
            "404": _ERROR,
            "409": _ERROR,
        },
    },
    "/v1/changes": {
        "summary": "The change feed after a cursor, oldest first, and the next cursor.",
        "responses": {
            "200": {"description": "Events and a cursor.", "content": _JSON},
            "400": _ERROR,
        },
    },
    "/v1/changes/stream": {
        "summary": "Server-Sent Events: `models` (added/removed) and `change` (feed events).",
        "responses": {
            "200": {"description": "An event stream.", "content": {"text/event-stream": {}}},
            "400": _ERROR,
            "503": _ERROR,
        },
    },
    "/metrics": {
        "summary": "Prometheus metrics: list age, refresh outcome, availability, latency.",
        "responses": {
            "200": {"description": "Prometheus text format.", "content": {"text/plain": {}}}
        },
    },
    "/healthz": {
        "summary": "Whether the catalog is reachable and its schema current.",
        "responses": {
            "200": {"description": "Healthy.", "content": _JSON},
            "503": {"description": "Unhealthy (the reason is in the body).", "content": _JSON},
        },
    },
    "/openapi.json": {
        "summary": "This description.",
        "responses": {"200": {"description": "OpenAPI 3.1.", "content": _JSON}},
    },
}

_SCHEMAS = {
    "Error": {
        "type": "object",
        "properties": {
            "error": {
                "type": "object",
                "properties": {
                    "message": {"type": "string"},
                    "type": {"type": "string"},
                    "param": {"type": ["string", "null"]},
                    "code": {"type": "integer"},
                },
                "required": ["message", "type"],
            }
        },
        "required": ["error"],
    },
    "Model": {
        "type": "object",
        "properties": {
            "id": {"type": "string", "description": "provider/model"},
            "object": {"const": "model"},
            "created": {"type": "integer"},
            "owned_by": {"type": "string"},
            "provider": {"type": "string"},
            "model": {"type": "string"},
            "aliases": {"type": "array", "items": {"type": "string"}},
            "status": {"enum": ["valid", "missing", "invalid", "unverified"]},
            "status_reason": {
                "type": ["string", "null"],
                "description": "why the model has its status (as `models show`)",
            },
            "usable": {
                "type": "boolean",
                "description": "in valid_models (a missing one too): it resolves",
            },
            "verdict": {"type": ["string", "null"]},
            "verdict_reason": {"type": ["string", "null"]},
            "availability_7d": {"type": ["number", "null"]},
            "latency_p50_ms": {"type": ["number", "null"]},
            "latency_p95_ms": {"type": ["number", "null"]},
            "pings_7d": {"type": "integer"},
            "metadata": {
                "type": "object",
                "description": "field -> {value, source}",
                "additionalProperties": {
                    "type": "object",
                    "properties": {"value": {}, "source": {"type": ["string", "null"]}},
                },
            },
        },
        "required": ["id", "object", "created", "owned_by"],
    },
    "ModelList": {
        "type": "object",
        "properties": {
            "object": {"const": "list"},
            "data": {"type": "array", "items": {"$ref": "#/components/schemas/Model"}},
        },
        "required": ["object", "data"],
    },
}


def _parameters(path: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in ("provider", "model")
        if "{" + name + "}" in path
    ]
    for name in PARAMETERS[path]:
        doc = dict(_PARAMETER_DOCS[name])
        found.append({"name": name, "in": "query", "required": doc.pop("required", False), **doc})
    return found


def openapi_document() -> dict[str, Any]:
    """The description, as a JSON-ready mapping."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "provider-store serve",
            "version": __version__,
            "description": "A read-only view of the provider-store catalog. API keys are never"
            " served. With a read token, every path but /healthz needs it as a bearer token.",
        },
        "paths": {
            path: {"get": {**operation, "parameters": _parameters(path)}}
            for path, operation in _OPERATIONS.items()
        },
        "components": {
            "schemas": _SCHEMAS,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }
