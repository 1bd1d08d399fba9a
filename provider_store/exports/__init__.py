"""The exports wing: the catalog handed to other tools, in the form each of them reads.

Lives here: the catalog's usable models as other tools name them (``catalog_models``: each
provider's valid models, their ``provider/model`` ids and aliases, their metadata from the one
model view, the stored keys), the LiteLLM proxy config (``litellm_proxy``) and the plugin that
registers the catalog's models with simonw's ``llm`` (``llm_plugin``, loaded by ``llm`` through
the ``llm`` entry point; nothing in the package imports it).
May import: the leaf modules, ``catalog``, ``registries`` (LiteLLM's field names), ``legacy``
(the atomic file write) and ``providers`` (connection options only); never ``discovery``,
``resolution``, ``store`` or ``cli``.
"""
