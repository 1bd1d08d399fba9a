"""The progress callback of a discovery run, called from one thread at a time.

A run reports from several threads (each provider's worker, the ping workers, the run's own
thread); :class:`ProgressRelay` serializes the calls with a lock, so a callback never runs twice
at once. The first exception the callback raises is kept, no later event is sent, and
:attr:`ProgressRelay.stopped` completes: the run's thread sees it, stops the run and raises the
exception to the caller (:meth:`ProgressRelay.raise_failure`).
"""

from __future__ import annotations

import threading
from concurrent.futures import Future

from provider_store.discovery.run_report import ProgressCallback, ProgressEvent

__all__ = ["ProgressRelay"]


class ProgressRelay:
    """The caller's progress callback, called from one thread at a time. The first exception
    it raises is kept (later events are not sent) and :meth:`raise_failure` raises it in the
    run's own thread, which then stops the run."""

    def __init__(self, callback: ProgressCallback | None) -> None:
        self._callback = callback
        self._lock = threading.Lock()
        self.failure: Exception | None = None
        self.stopped: Future[None] = Future()

    def __call__(self, event: ProgressEvent) -> None:
        if self._callback is None:
            return
        with self._lock:
            if self.failure is not None:
                return
            try:
                self._callback(event)
            except Exception as exc:  # noqa: BLE001 - raised again in the run's thread
                self.failure = exc
                self.stopped.set_result(None)

    def raise_failure(self) -> None:
        """Raise the callback's exception, if it raised one."""
        if self.failure is not None:
            raise self.failure
