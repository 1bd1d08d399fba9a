"""The discovery wing: the model-list cache policy, validation pings and verdicts, and the
concurrent discover-and-validate run.

Lives here: :class:`ModelDiscoveryService`, the cache policy over its memory and store backends,
refresh leases, verdict rules, the run and its report.
May import: the leaf modules, ``catalog`` and ``providers``; never ``legacy``, ``resolution`` or
``cli``.
"""
