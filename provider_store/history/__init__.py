"""The history wing: what changed in the catalog and when, and how each model answered.

Lives here: change events (added, missing, removed, reappeared, changed, verdict) computed inside
the listing and verdict write transactions, the removal-confirmation rule, ping observations, their
rollup and statistics, the change feed reader and retention, and ``ProviderStore``'s history
operations (``history_operations``).
May import: the leaf modules (``errors``, ``model_info``, ``suggestions``) and ``catalog`` only;
never ``legacy``, ``providers``, ``discovery``, ``resolution`` or ``cli``. Discovery calls into it
with its session, so state and history are written in one transaction.
"""
