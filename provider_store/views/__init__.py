"""The views wing: what the catalog says about a model, computed once for every face.

Lives here: the one model view (:mod:`provider_store.views.model_view`): for one model or in
bulk, the effective value of every metadata field with its source (user > listed >
registries, as :mod:`provider_store.catalog.reconcile` decides), the model's status (valid,
invalid, unverified, missing) and why. ``models list`` and its filters, ``models show``,
``resolve``, the exports and the library read this view and nothing else.
May import: the leaf modules and ``catalog`` only; never ``legacy``, ``providers``,
``registries``, ``history``, ``discovery``, ``resolution``, ``exports`` or ``cli``.
"""
