"""The pings of a discovery run, on one set of worker threads: at most ``concurrency`` in flight
overall and at most ``per_provider`` in flight for any one provider.

A provider's models to ping form a :class:`PingBatch`; :meth:`PingScheduler.submit` hands it
over and :meth:`PingBatch.wait` waits for its verdicts. Rules:

- **No idle slot**: a worker that finishes a ping takes the next startable ping itself, of
  any provider, so a free slot is used at once (no semaphore hand-off to another thread). New
  work wakes only as many waiting workers as it has startable pings, and a worker thread is
  started only when none is waiting (never more than ``concurrency``).
- **Most work first**: the next ping goes to the provider with the most pings not finished
  (not started or running), among those below their bound; of equals, the one submitted first.
  Under a tight global bound no provider is left with a long tail at the end; when the bound
  is loose, a provider's pings start together, so the providers end one after another and
  their verdict writes do not pile up at the end of the run.
- **First ping alone** (``alone_first``): one ping is sent, and the others only once its
  verdict names no provider problem (a rejected key then costs one request, not one per model).
- **A provider problem stops the batch**: pings not yet started are not sent; those in flight
  finish.
- **Deadline**: no ping starts at or after ``deadline_at``; the batch then ends with the
  verdicts it has. :meth:`PingScheduler.close` starts nothing more and lets the workers go when
  their current ping ends (they are daemon threads: an interrupted process does not wait for
  them).

Work that can wait (a database write: it takes this process's time from sending pings) calls
:meth:`PingScheduler.wait_caught_up` first: it returns once every ping that could start has
started, or every worker is busy. :meth:`PingScheduler.prestart` starts workers ahead of the
pings (a discovery run does it while the model lists are being fetched).

The ping itself (``ping(model)``) never holds the scheduler's lock; what a batch calls back
(``on_verdict``) runs on the worker, outside the lock, before it takes its next ping.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable

from provider_store.catalog.records import ValidationResult

__all__ = ["PingBatch", "PingScheduler"]

logger = logging.getLogger(__name__)


class PingBatch:
    """One provider's models to ping, and the verdicts found so far (:meth:`results`)."""

    def __init__(
        self,
        key: str,
        models: Iterable[str],
        ping: Callable[[str], ValidationResult],
        *,
        alone_first: bool,
        on_verdict: Callable[[int, int], None] | None = None,
    ) -> None:
        self.key = key
        self.models = list(dict.fromkeys(models))
        self._verdicts: dict[str, ValidationResult] = {}
        self._ping = ping
        self._on_verdict = on_verdict
        self._pending = deque(self.models)
        self._gated = alone_first  # until the first verdict shows no provider problem
        self._in_flight = 0
        self._finished = 0
        self._done = threading.Event()
        self._lock = threading.Lock()  # guards ``verdicts`` against a reader mid-update

    def results(self) -> dict[str, ValidationResult]:
        """A copy of the verdicts found so far."""
        with self._lock:
            return dict(self._verdicts)

    def wait(self, deadline_at: float) -> bool:
        """Wait until every ping started has ended and none is left to start (True), or until
        ``deadline_at`` on the perf_counter clock (False)."""
        return self._done.wait(max(0.0, deadline_at - time.perf_counter()))

    # -- the scheduler's side; every method below runs under the scheduler's lock --------------

    def startable(self, per_provider: int) -> int:
        """How many more pings may start now."""
        bound = 1 if self._gated else per_provider
        return max(0, min(len(self._pending), bound - self._in_flight))

    def left(self) -> int:
        """How many pings are not started yet."""
        return len(self._pending)

    def unfinished(self) -> int:
        """How many pings are not started yet or still running."""
        return len(self._pending) + self._in_flight

    def take(self) -> str:
        """The next model to ping, now counted in flight."""
        self._in_flight += 1
        return self._pending.popleft()

    def ended(self, model: str, result: ValidationResult | None) -> tuple[int, int]:
        """Record one ping's end; the (finished, total) counts for progress."""
        self._in_flight -= 1
        self._finished += 1
        if result is not None:
            with self._lock:
                self._verdicts[model] = result
            if result.problem is not None:
                self._pending.clear()  # a rejected key or no credit: the others would fail alike
        self._gated = False
        self._settle()
        return self._finished, len(self.models)

    def drop_pending(self) -> None:
        """Start nothing more (the deadline passed, or the run closed)."""
        self._pending.clear()
        self._settle()

    # -- on the worker, outside the lock --------------------------------------------------------

    def ping(self, model: str) -> ValidationResult | None:
        """Ping ``model``; None (logged) when the ping raised."""
        try:
            return self._ping(model)
        except Exception as exc:  # noqa: BLE001 - one ping's bug must not stop the others
            logger.warning("Validating %s/%s raised %r", self.key, model, exc)
            return None

    def progress(self, finished: int, total: int) -> None:
        """Tell the caller how far the batch is."""
        if self._on_verdict is not None:
            self._on_verdict(finished, total)

    def _settle(self) -> None:
        if not self._pending and self._in_flight == 0:
            self._done.set()


class PingScheduler:
    """Runs the pings of submitted batches on at most ``concurrency`` worker threads."""

    def __init__(
        self,
        concurrency: int,
        per_provider: int,
        deadline_at: float,
        *,
        name: str = "ps-ping",
    ) -> None:
        if concurrency < 1 or per_provider < 1:
            raise ValueError("concurrency bounds must be at least 1")
        self.concurrency = concurrency
        self.per_provider = per_provider
        self.deadline_at = deadline_at  # perf_counter clock
        self._name = name
        self._cond_lock = threading.Lock()
        self._cond = threading.Condition(self._cond_lock)
        self._batches: list[PingBatch] = []  # submitted, with pings left to start
        self._threads = 0  # worker threads alive
        self._busy = 0  # workers running a ping
        self._waiting = 0  # workers waiting for work and not yet woken
        self._promised = 0  # workers woken or started that have not looked for work yet
        self._closed = False
        self._caught_up = threading.Condition(self._cond_lock)

    def wait_caught_up(self, timeout: float) -> bool:
        """Wait (at most ``timeout`` seconds) until no ping that could start is waiting for a
        worker: every startable ping has started, or every worker is busy. Work that is not
        urgent (a database write) waits for this, so it does not delay the pings' start."""
        with self._caught_up:
            return self._caught_up.wait_for(self._is_caught_up, timeout)

    def _is_caught_up(self) -> bool:
        if self._closed or self._busy >= self.concurrency:
            return True
        return not any(b.startable(self.per_provider) for b in self._batches)

    def _signal_caught_up(self) -> None:
        if self._is_caught_up():
            self._caught_up.notify_all()

    def submit(self, batch: PingBatch) -> None:
        """Start ``batch``'s pings as the bounds allow (a closed scheduler starts none)."""
        with self._cond:
            if self._closed or time.perf_counter() >= self.deadline_at:
                batch.drop_pending()
                return
            if batch.startable(self.per_provider) == 0:
                batch.drop_pending()  # nothing to ping
                return
            self._batches.append(batch)
            self._dispatch()

    def prestart(self, workers: int) -> None:
        """Start up to ``workers`` worker threads now (never more than ``concurrency``), so that
        pings submitted later start without waiting for a thread to be created."""
        with self._cond:
            if not self._closed:
                self._spawn(min(workers, self.concurrency) - self._threads)

    def close(self) -> None:
        """Start no more pings; workers leave when their current ping ends."""
        with self._cond:
            self._closed = True
            for batch in self._batches:
                batch.drop_pending()
            self._batches.clear()
            self._promised += self._waiting
            self._waiting = 0
            self._cond.notify_all()
            self._caught_up.notify_all()

    # -- under the lock -----------------------------------------------------------------------

    def _dispatch(self) -> None:
        """Wake or start as many workers as there are startable pings nobody is coming for."""
        startable = sum(b.startable(self.per_provider) for b in self._batches)
        want = min(startable, self.concurrency - self._busy) - self._promised
        if want <= 0:
            return
        wake = min(want, self._waiting)
        if wake:
            self._waiting -= wake
            self._promised += wake
            self._cond.notify(wake)
        self._spawn(min(want - wake, self.concurrency - self._threads))

    def _spawn(self, count: int) -> None:
        """Start ``count`` workers; each looks for work as soon as it runs."""
        for _ in range(count):
            self._threads += 1
            self._promised += 1
            thread = threading.Thread(
                target=self._work, name=f"{self._name}_{self._threads}", daemon=True
            )
            try:
                thread.start()
            except RuntimeError as exc:  # no more threads: the workers running carry on
                self._threads -= 1
                self._promised -= 1
                if self._threads == 0:  # none at all: the pings cannot be sent
                    logger.warning("no thread for the pings (%s); they stay inconclusive", exc)
                    for batch in self._batches:
                        batch.drop_pending()
                    self._batches.clear()
                break

    def _take(self) -> tuple[PingBatch, str] | None:
        """The next ping to start: of the startable batch with the most unfinished pings."""
        if self._closed or self._busy >= self.concurrency:
            return None
        if time.perf_counter() >= self.deadline_at:
            for batch in self._batches:
                batch.drop_pending()
            self._batches.clear()
            self._caught_up.notify_all()
            return None
        best: PingBatch | None = None
        most = 0
        for batch in self._batches:  # in the order they came; the first of equals wins
            if batch.startable(self.per_provider) and batch.unfinished() > most:
                best, most = batch, batch.unfinished()
        if best is None:
            return None
        model = best.take()
        if not best.left():
            self._batches.remove(best)
        return best, model

    # -- a worker -----------------------------------------------------------------------------

    def _work(self) -> None:
        cond = self._cond
        cond.acquire()
        try:
            self._promised -= 1
            while True:
                task = self._take()
                if task is None:
                    if self._closed:
                        return
                    self._waiting += 1
                    cond.wait()
                    self._promised -= 1  # whoever woke this worker counted it as promised
                    continue
                batch, model = task
                self._busy += 1
                self._signal_caught_up()
                cond.release()
                try:
                    result = batch.ping(model)
                finally:
                    cond.acquire()
                self._busy -= 1
                counts = batch.ended(model, result)
                if not batch.left() and batch in self._batches:
                    self._batches.remove(batch)  # stopped by a provider problem
                self._dispatch()  # a gate opened, or a slot of the global bound freed
                self._signal_caught_up()
                cond.release()
                try:
                    batch.progress(*counts)
                finally:
                    cond.acquire()
        finally:
            self._threads -= 1
            cond.release()
