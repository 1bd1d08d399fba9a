"""A loopback OpenAI-compatible server for tests and demos: models and chat completions.

Use it as a context manager::

    with FakeProvider(["gpt-a", "gpt-b"]) as fake:
        config = ProviderConfig(base_api_url=fake.base_url, api_key="sk-test")
        ...
        assert fake.request_count("/models") == 1

or as a process (the first line of standard output is the base URL; it serves until killed)::

    python -m provider_store.testing --port 8080 --models a,b,c --latency 0.2 --page-size 2

Per-model chat behaviour (:meth:`FakeProvider.set_model_behaviour`):

- ``"pong"`` (default for listed models): 200 with a first choice saying "pong".
- ``"refuse"``: 400 ``{"error": {"message": "<id> is not a chat model"}}``.
- ``"silent"``: 200 with a first choice that does not say pong.
- ``"error:<status>"``: that status with an OpenAI-style error body (e.g. ``"error:429"``).
- ``"timeout"``: waits ``hang_seconds`` before answering (past any sensible read timeout).
- ``"reasoning"`` (or ``"reasoning:<budget>"``): a reasoning model as OpenAI's o-series answer.
  It refuses ``max_tokens`` (400, ``param: max_tokens``, ``code: unsupported_parameter``) and a
  ``temperature`` other than 1 (400, ``code: unsupported_value``). With ``max_completion_tokens``
  below the budget (default 256) it spends them all on reasoning: 200 with ``content: ""``,
  ``finish_reason: "length"`` and the thinking in ``reasoning_content``; with enough tokens it
  says "pong".

A model that is neither listed nor given a behaviour gets 404 ``model_not_found``, as real
providers answer. ``/models`` failure modes are set with :meth:`FakeProvider.set_failure`.

``page_size`` makes ``/models`` page like OpenAI's and Anthropic's list endpoints: at most that many
items per answer (fewer when the request's ``limit`` asks), with ``has_more``, ``first_id`` and
``last_id``; the next page is asked for with ``?after_id=<last_id>`` (or ``?after=``).
:meth:`FakeProvider.set_model_metadata` adds fields to a model's list item (``context_length``,
``pricing``, ``architecture``, ``supported_parameters`` …, in OpenRouter's shape by convention).

Lives here: the server (``fake_server``: :class:`FakeProvider`, its settings and records), its
request handler (``fake_handler``), what it answers (``fake_answers``: bodies, behaviours,
failure kinds) and its command line (``command_line``).
May import: the standard library only; the package itself never imports it.
"""

from provider_store.testing.command_line import main
from provider_store.testing.fake_answers import (
    BEHAVIOURS,
    DEFAULT_REASONING_BUDGET,
    FAILURE_KINDS,
    OVERSIZE_DEFAULT_BYTES,
    REASONING_TEXT,
    RecordedRequest,
)
from provider_store.testing.fake_server import (
    DEFAULT_HANG_SECONDS,
    STOP_POLL_SECONDS,
    FakeProvider,
)

__all__ = [
    "BEHAVIOURS",
    "DEFAULT_HANG_SECONDS",
    "DEFAULT_REASONING_BUDGET",
    "FAILURE_KINDS",
    "OVERSIZE_DEFAULT_BYTES",
    "REASONING_TEXT",
    "STOP_POLL_SECONDS",
    "FakeProvider",
    "RecordedRequest",
    "main",
]
