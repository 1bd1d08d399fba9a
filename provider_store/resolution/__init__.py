"""The resolution wing: :class:`ProviderManager` and turning ``provider/model`` strings into models.

Lives here: the in-memory model index (``model_index``, its trigram postings in ``trigrams``),
resolution over it (``resolver``), flat model lists (``model_lists``) and the manager's dict-like
legacy face that delegates to them and to discovery and legacy (``manager``).
May import: the leaf modules, ``catalog``, ``legacy``, ``providers`` and ``discovery``; never
``cli``.
"""
