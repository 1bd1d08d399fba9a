"""The providers wing: talking to one provider's HTTP API, whatever its kind.

Lives here: the HTTP client every kind sends through (``client``) and its deadline, response
reading, model-list pages and bodies, listed metadata, the one ping driver (``ping``: request
styles, adaptations, retries) and the reading of ping replies (``ping_replies``: answers, errors,
the pong rule), and the kinds (``openai``, ``anthropic``, ``gemini``), each supplying its list,
its ping request and its answer reader.
May import: the leaf modules only; never ``catalog``, ``legacy``, ``discovery``, ``resolution``
or ``cli`` (it knows nothing of the database).
"""
