"""The providers wing: talking to one provider's HTTP API, whatever its kind.

Lives here: the HTTP client and its deadline, response reading, model-list pages and bodies,
listed metadata, the ping request styles and answer readers, and the kinds (``openai``,
``anthropic``, ``gemini``).
May import: the leaf modules only; never ``catalog``, ``legacy``, ``discovery``, ``resolution``
or ``cli`` (it knows nothing of the database).
"""
