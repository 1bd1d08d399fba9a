"""``provider-store refresh``: the keeper, as real processes against a loopback provider.

Both backends; the keeper runs as ``python -m provider_store`` and is stopped with SIGTERM.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest
import zygote
from helpers import wait_until

from provider_store import ProviderConfig, ProviderStore
from provider_store.discovery.keeper import parse_duration
from provider_store.testing import FakeProvider

# These tests start other processes: make test-quick leaves them out.
pytestmark = pytest.mark.slow

KEY = "sk-keeper-0123456789"


def keeper(url: str, *args: str) -> subprocess.Popen[str]:
    return zygote.Popen(
        [sys.executable, "-m", "provider_store", "--db", url, "refresh", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def stop(proc: subprocess.Popen[str]) -> tuple[int, float, str, str]:
    """SIGTERM the keeper; its exit code, the seconds it took to exit, its output."""
    sent = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=30)
    return proc.returncode, time.monotonic() - sent, out, err


def models_times(fake: FakeProvider, seconds: float) -> list[float]:
    """When each /models request arrived during the next ``seconds`` (sampled every 10 ms)."""
    times: list[float] = []
    seen = fake.request_count("/models")
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        count = fake.request_count("/models")
        times.extend([time.monotonic()] * (count - seen))
        seen = count
        time.sleep(0.01)
    return times


def test_keeper_refreshes_on_schedule_pings_only_new_models_and_stops_on_sigterm(
    store: ProviderStore,
) -> None:
    with FakeProvider(["a", "b"]) as fake:
        store.save_config("p", ProviderConfig(base_api_url=fake.base_url, api_key=KEY))
        proc = keeper(store.url, "--every", "1s", "--jitter", "0", "p")
        try:
            assert wait_until(lambda: fake.request_count("/models") >= 1, 30)
            assert wait_until(lambda: fake.request_count("/chat/completions") >= 2, 10)
            fake.set_models(["a", "b", "c"])
            assert wait_until(lambda: fake.request_count("/models") >= 3, 15)
            assert wait_until(lambda: fake.request_count("/chat/completions") >= 3, 10)
        finally:
            code, seconds, out, err = stop(proc)
        assert code == 0, err
        assert seconds < 5, seconds
        pinged = [r.json["model"] for r in fake.requests if r.path.endswith("/chat/completions")]
    assert sorted(pinged) == ["a", "b", "c"]  # the known models are not pinged again
    lines = [line for line in out.splitlines() if line.startswith("refreshed p:")]
    assert len(lines) >= 2, out
    assert "3 models, 3 valid" in lines[-1]
    assert KEY not in out + err
    assert sorted(store.get_config("p").valid_models) == ["a", "b", "c"]


def test_keeper_stops_on_sigterm_in_the_middle_of_a_refresh(store: ProviderStore) -> None:
    with FakeProvider(["a"], latency=20) as fake:
        store.save_config("p", ProviderConfig(base_api_url=fake.base_url, api_key=KEY))
        proc = keeper(store.url, "--every", "1s", "p")
        assert wait_until(lambda: fake.request_count("/models") >= 1, 30)
        code, seconds, _out, err = stop(proc)
    assert code == 0, err
    assert seconds < 5, seconds
    with store.read() as session:
        from provider_store.discovery import leases

        assert leases.current_holder(session, "p") is None  # the lease was given back


def test_ctrl_c_in_the_middle_of_a_refresh_exits_130_and_gives_the_lease_back(
    store: ProviderStore,
) -> None:
    with FakeProvider(["a"], latency=20) as fake:
        store.save_config("p", ProviderConfig(base_api_url=fake.base_url, api_key=KEY))
        proc = keeper(store.url, "--every", "1s", "p")
        assert wait_until(lambda: fake.request_count("/models") >= 1, 30)
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=30)
        seconds = time.monotonic() - sent
    assert proc.returncode == 130, err
    assert seconds < 5, seconds
    assert "Interrupted." in err and "Traceback" not in err
    with store.read() as session:
        from provider_store.discovery import leases

        assert leases.current_holder(session, "p") is None


def test_two_keepers_never_refresh_one_provider_twice_in_a_period(store: ProviderStore) -> None:
    with FakeProvider(["a"], latency=0.2) as fake:
        store.save_config("p", ProviderConfig(base_api_url=fake.base_url, api_key=KEY))
        store.rows.write_cache("p", [{"id": "a"}], fetched_at=time.time())
        procs = [keeper(store.url, "--every", "2s", "--jitter", "0", "p") for _ in range(2)]
        try:
            assert wait_until(lambda: fake.request_count("/models") >= 1, 30)
            times = [time.monotonic(), *models_times(fake, 5)]  # two more periods, and 1 s
        finally:
            results = [stop(proc) for proc in procs]
    assert [r[0] for r in results] == [0, 0], [r[3] for r in results]
    assert 3 <= len(times) <= 4, times
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    assert all(gap > 1.5 for gap in gaps), gaps  # one refresh per 2 s period, not two


def test_keepers_started_at_once_send_one_models_request(store: ProviderStore) -> None:
    with FakeProvider(["a"], latency=0.3) as fake:
        store.save_config("p", ProviderConfig(base_api_url=fake.base_url, api_key=KEY))
        procs = [keeper(store.url, "--once", "--no-validate") for _ in range(3)]
        codes = [proc.wait(timeout=60) for proc in procs]
        assert codes == [0, 0, 0], [proc.stderr.read() if proc.stderr else "" for proc in procs]
        assert fake.request_count("/models") == 1


@pytest.mark.parametrize("at_once", [2, 6])
def test_a_pass_refreshes_due_providers_at_once_within_its_bound(
    store: ProviderStore, at_once: int
) -> None:
    # Six providers on one slow loopback server: the keeper asks up to --concurrency of them
    # at the same time, and each exactly once.
    with FakeProvider(["a", "b"], latency=1.0) as fake:
        for i in range(6):
            config = ProviderConfig(base_api_url=fake.base_url, api_key=KEY)
            store.save_config(f"p{i}", config)
        done = zygote.run(
            [sys.executable, "-m", "provider_store", "--db", store.url, "refresh", "--once"]
            + ["--no-validate", "--concurrency", str(at_once)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        assert fake.request_count("/models") == 6
        assert fake.peak_in_flight == at_once
    refreshed = sorted(line.split(":")[0] for line in done.stdout.splitlines())
    assert refreshed == [f"refreshed p{i}" for i in range(6)]
    assert all(store.get_config(f"p{i}").list_cache.models for i in range(6))


def test_a_bad_concurrency_is_refused(store: ProviderStore) -> None:
    proc = keeper(store.url, "--once", "--concurrency", "0")
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert "--concurrency" in err and "Traceback" not in err


def test_once_skips_a_fresh_provider_and_refuses_an_unknown_one(store: ProviderStore) -> None:
    with FakeProvider(["a"]) as fake:
        store.save_config("p", ProviderConfig(base_api_url=fake.base_url, api_key=KEY))
        store.rows.write_cache("p", [{"id": "a"}], fetched_at=time.time())
        done = zygote.run(
            [sys.executable, "-m", "provider_store", "--db", store.url, "refresh", "--once"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        assert fake.request_count("/models") == 0
    unknown = keeper(store.url, "--once", "nope")
    _out, err = unknown.communicate(timeout=60)
    assert unknown.returncode == 2
    assert "nope" in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("text", "seconds"), [("15m", 900.0), ("1s", 1.0), ("2h", 7200.0), ("0.5", 0.5)]
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "m", "-1s", "soon", "0", "inf"])
def test_bad_durations_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)
