"""The resolution wing: :class:`ProviderManager` and turning ``provider/model`` strings into models.

Lives here: the in-memory model index and the manager's dict-like legacy face.
May import: the leaf modules, ``catalog``, ``legacy``, ``providers`` and ``discovery``; never
``cli``.
"""
