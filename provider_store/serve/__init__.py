"""The serve wing: the catalog as a read-only HTTP API (``provider-store serve``).

Lives here: the one module that reads model data for the server (``catalog_view``), the model
objects and filters of the answers (``model_answers``), the in-memory view that follows the
catalog's change tokens and its ETag (``served_view``), the Server-Sent Events broadcast
(``change_stream``), the query checks (``query_params``), the Prometheus metrics
(``prometheus_export``), the OpenAPI description (``openapi_spec``), the bind rule, size limits
and read token (``access_rules``), the endpoints (``routes``), the ASGI application
(``http_app``) and the uvicorn runner (``http_server``). Needs the ``serve`` extra (starlette,
uvicorn, prometheus-client); nothing outside this wing and ``cli/serve.py`` imports it.
May import: everything but ``cli``.
"""
