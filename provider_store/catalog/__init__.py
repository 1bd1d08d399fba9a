"""The catalog wing: the durable shape of providers and models, and every read and write of it.

Lives here: the SQLModel tables, engines and sessions, Alembic glue, the discovery-cache and
verdict rows, metadata columns and the curated-model plan, model facts and their reconciliation
(which value wins, and why), registry provenance rows, schema revisions as operations
(``schema_changes``), :class:`CatalogStore` (the connection and transactions) and
:class:`~provider_store.catalog.catalog_rows.CatalogRows` (the row operations the wings call).
May import: the leaf modules (``errors``, ``rules``, ``model_info``, ``provider_config``,
``suggestions``) only; never ``legacy``, ``providers``, ``discovery``, ``resolution`` or ``cli``.
"""
