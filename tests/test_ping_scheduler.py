"""The run's ping scheduler: its bounds, the first ping alone, a provider problem, the deadline,
closing, and which provider's ping goes next."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable

from provider_store import ValidationResult, Verdict
from provider_store.discovery.ping_scheduler import PingBatch, PingScheduler

FAR = 60.0  # seconds: a deadline no test reaches


class Pings:
    """A ping function per provider that records what ran, and how much at once."""

    def __init__(self, seconds: float = 0.02) -> None:
        self.seconds = seconds
        self.lock = threading.Lock()
        self.order: list[tuple[str, str]] = []
        self.running: Counter[str] = Counter()
        self.most: Counter[str] = Counter()  # per provider, and "*" for all of them
        self.problems: set[tuple[str, str]] = set()
        self.gate: threading.Event | None = None  # when set, pings wait for it

    def of(self, key: str) -> Callable[[str], ValidationResult]:
        def ping(model: str) -> ValidationResult:
            with self.lock:
                self.order.append((key, model))
                self.running[key] += 1
                self.running["*"] += 1
                for name in (key, "*"):
                    self.most[name] = max(self.most[name], self.running[name])
            if self.gate is not None:
                self.gate.wait(FAR)
            time.sleep(self.seconds)
            with self.lock:
                self.running[key] -= 1
                self.running["*"] -= 1
            problem = "API key rejected" if (key, model) in self.problems else None
            verdict = Verdict.INCONCLUSIVE if problem else Verdict.VALID
            return ValidationResult(model, verdict, "pong", time.time(), problem=problem)

        return ping


def models(n: int) -> list[str]:
    return [f"m{i}" for i in range(n)]


def scheduler(concurrency: int, per_provider: int, deadline: float = FAR) -> PingScheduler:
    return PingScheduler(concurrency, per_provider, time.perf_counter() + deadline)


def test_the_bounds_hold_and_every_model_is_pinged() -> None:
    pings = Pings(seconds=0.05)
    run = scheduler(concurrency=6, per_provider=2)
    batches = [
        PingBatch(f"p{k}", models(5), pings.of(f"p{k}"), alone_first=False) for k in range(5)
    ]
    try:
        for batch in batches:
            run.submit(batch)
        assert all(batch.wait(time.perf_counter() + FAR) for batch in batches)
    finally:
        run.close()
    assert all(sorted(batch.results()) == models(5) for batch in batches)
    assert len(pings.order) == 25
    assert pings.most["*"] == 6  # the global bound is used, and never exceeded
    assert all(pings.most[f"p{k}"] == 2 for k in range(5))


def test_an_unproven_key_sends_one_ping_first_then_the_rest_together() -> None:
    pings = Pings()
    run = scheduler(concurrency=8, per_provider=4)
    seen: list[tuple[int, int]] = []
    batch = PingBatch(
        "p", models(9), pings.of("p"), alone_first=True, on_verdict=lambda *c: seen.append(c)
    )
    try:
        run.submit(batch)
        assert batch.wait(time.perf_counter() + FAR)
    finally:
        run.close()
    assert pings.order[0] == ("p", "m0") and len(pings.order) == 9
    assert pings.most["p"] == 4
    assert sorted(seen) == [(n, 9) for n in range(1, 10)]


def test_a_rejected_key_sent_alone_costs_one_request() -> None:
    pings = Pings()
    pings.problems = {("p", m) for m in models(9)}
    run = scheduler(concurrency=8, per_provider=4)
    batch = PingBatch("p", models(9), pings.of("p"), alone_first=True)
    try:
        run.submit(batch)
        assert batch.wait(time.perf_counter() + FAR)
    finally:
        run.close()
    assert pings.order == [("p", "m0")]
    assert batch.results()["m0"].problem == "API key rejected"


def test_a_problem_stops_the_pings_not_yet_started() -> None:
    pings = Pings(seconds=0.05)
    pings.problems = {("p", m) for m in models(12)}
    run = scheduler(concurrency=8, per_provider=3)
    batch = PingBatch("p", models(12), pings.of("p"), alone_first=False)
    try:
        run.submit(batch)
        assert batch.wait(time.perf_counter() + FAR)
    finally:
        run.close()
    assert 1 <= len(pings.order) <= 3  # those already in flight when the first answer came


def test_past_the_deadline_no_ping_starts() -> None:
    pings = Pings()
    run = scheduler(concurrency=4, per_provider=2, deadline=-1.0)
    batch = PingBatch("p", models(3), pings.of("p"), alone_first=False)
    run.submit(batch)
    assert batch.wait(time.perf_counter() + FAR)
    run.close()
    assert pings.order == [] and batch.results() == {}


def test_after_close_no_ping_starts() -> None:
    pings = Pings()
    pings.gate = threading.Event()
    run = scheduler(concurrency=1, per_provider=1)
    batch = PingBatch("p", models(5), pings.of("p"), alone_first=False)
    run.submit(batch)
    while not pings.order:
        time.sleep(0.01)
    run.close()
    pings.gate.set()
    assert batch.wait(time.perf_counter() + FAR)
    assert pings.order == [("p", "m0")] and list(batch.results()) == ["m0"]


def test_the_provider_with_the_most_work_left_goes_first() -> None:
    pings = Pings(seconds=0.0)
    pings.gate = threading.Event()
    run = scheduler(concurrency=1, per_provider=1)
    first = PingBatch("gate", ["g"], pings.of("gate"), alone_first=False)
    short = PingBatch("a", models(2), pings.of("a"), alone_first=False)
    long = PingBatch("b", models(4), pings.of("b"), alone_first=False)
    try:
        run.submit(first)
        while not pings.order:
            time.sleep(0.01)
        run.submit(short)
        run.submit(long)
        pings.gate.set()
        assert short.wait(time.perf_counter() + FAR) and long.wait(time.perf_counter() + FAR)
    finally:
        run.close()
    # b has the most left; on a tie the batch submitted first goes first.
    assert [key for key, _model in pings.order] == ["gate", "b", "b", "a", "b", "a", "b"]


def test_a_write_waits_only_until_the_startable_pings_have_started() -> None:
    pings = Pings(seconds=0.2)
    run = scheduler(concurrency=20, per_provider=5)
    batches = [
        PingBatch(f"p{k}", models(5), pings.of(f"p{k}"), alone_first=False) for k in range(4)
    ]
    try:
        run.prestart(20)
        for batch in batches:
            run.submit(batch)
        assert run.wait_caught_up(FAR)  # True: it did not give up
        assert [batch.left() for batch in batches] == [0, 0, 0, 0]  # every ping was taken
    finally:
        run.close()
