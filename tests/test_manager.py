"""ProviderManager: the legacy contract, ambiguity, indexed resolution and concurrent discovery."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from provider_store import AmbiguousModelError, ProviderConfig, ProviderStore, UnknownModelError
from provider_store.discovery.run_report import ProgressEvent
from provider_store.discovery.service import ModelDiscoveryService
from provider_store.providers.client import ProviderClient
from provider_store.resolution.manager import ProviderManager, split_first_slash
from provider_store.testing import FakeProvider

# -- the legacy contract, on loose configs-------------------------------------------------------


@pytest.fixture
def manager() -> ProviderManager:
    return ProviderManager(
        {
            "openai": ProviderConfig(
                name="OpenAI",
                api_key="sk-openai",
                valid_models={"gpt-4o": "4o", "gpt-4o-mini": "mini", "shared-model": "shared"},
            ),
            "together": {
                "name": "Together",
                "api_key": "sk-together",
                "valid_models": {"Qwen/QwQ-32B": "qwq", "meta/llama-3": "llama", "mini": "m"},
                "invalid_models": ["embed-1"],
            },
            "local": {"valid_models": {"shared-model": "sm", "Gpt-4o": "local-4o"}},
        }
    )


def test_dict_like_access(manager: ProviderManager) -> None:
    assert list(manager.keys()) == ["openai", "together", "local"]
    assert manager.get_all_provider_names() == ["openai", "together", "local"]
    assert "together" in manager and "nope" not in manager
    assert isinstance(manager["together"], ProviderConfig)
    assert manager["together"].invalid_models == ["embed-1"]
    assert manager.get("nope") is None
    assert manager.get("openai") is manager["openai"]
    assert [key for key, _config in manager.items()] == list(manager.keys())
    assert list(manager.values())[0].name == "OpenAI"
    assert len(manager) == 3 and list(manager) == ["openai", "together", "local"]


def test_get_provider_config_names_the_missing_provider(manager: ProviderManager) -> None:
    assert manager.get_provider_config("openai").name == "OpenAI"
    with pytest.raises(KeyError, match="nope"):
        manager.get_provider_config("nope")


def test_listings(manager: ProviderManager) -> None:
    assert manager.merged_models()[:2] == [
        ("openai", ("gpt-4o", "4o")),
        ("openai", ("gpt-4o-mini", "mini")),
    ]
    assert len(manager.merged_models()) == 8
    assert manager.valid_scoped_models()[3] == "together/Qwen/QwQ-32B (qwq)"
    assert manager.get_available_models("Together") == ["Qwen/QwQ-32B", "meta/llama-3", "mini"]
    assert len(manager.get_available_models()) == 8
    assert manager.get_available_models("nope") == []
    assert manager.scoped_models("Together") == [
        "together/Qwen/QwQ-32B",
        "together/meta/llama-3",
        "together/mini",
    ]
    assert manager.get_short_name("gpt-4o") == "gpt-4o"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("gpt-4o", ("", "gpt-4o")),
        ("openai/gpt-4o", ("openai", "gpt-4o")),
        ("together/Qwen/QwQ-32B", ("together", "Qwen/QwQ-32B")),
        ("/x", ("", "x")),
        ("", ("", "")),
    ],
)
def test_split_first_slash(text: str, expected: tuple[str, str]) -> None:
    assert split_first_slash(text) == expected
    assert ProviderManager.split_first_slash(text) == expected


@pytest.mark.parametrize(
    ("model_string", "provider", "long_name"),
    [
        ("openai/gpt-4o", "openai", "gpt-4o"),
        ("OpenAI/gpt-4o", "openai", "gpt-4o"),  # the prefix ignores case
        ("openai/mini", "openai", "gpt-4o-mini"),  # a prefixed short name gives the long name
        ("together/Qwen/QwQ-32B", "together", "Qwen/QwQ-32B"),
        ("Qwen/QwQ-32B", "together", "Qwen/QwQ-32B"),  # the whole string is a model id
        ("qwq", "together", "Qwen/QwQ-32B"),
        ("gpt-4o-mini", "openai", "gpt-4o-mini"),
        ("mini", "openai", "gpt-4o-mini"),  # openai's alias comes before together's long id
        ("shared-model", "openai", "shared-model"),  # first provider wins
        ("local/shared-model", "local", "shared-model"),
        ("local/sm", "local", "shared-model"),
        ("Gpt-4o", "local", "Gpt-4o"),  # an exact-case match wins over a case-insensitive one
        ("GPT-4O-MINI", "openai", "gpt-4o-mini"),  # case-insensitive when nothing is exact
        ("unknown/gpt-4o", "openai", "gpt-4o"),  # not a provider: the rest is a model name
    ],
)
def test_get_api_for_model_string_resolves(
    manager: ProviderManager, model_string: str, provider: str, long_name: str
) -> None:
    config, resolved = manager.get_api_for_model_string(model_string)
    assert config is manager[provider]
    assert resolved == long_name
    assert manager.validate_model(model_string) == long_name


@pytest.mark.parametrize(
    ("model_string", "message"),
    [
        (
            "openai/llama",
            "Invalid model for provider openai: llama"
            " (did you mean together/meta/llama-3 (llama)?)",
        ),
        ("OPENAI/nope", "Invalid model for provider openai: nope"),
        ("together/embed-1", "Invalid model for provider together: embed-1"),  # invalid ≠ valid
        ("nope", "Invalid model: nope"),
        ("vendor/nope", "Invalid model: nope"),  # the legacy message names the part looked up
        ("", "Invalid model: "),
    ],
)
def test_get_api_for_model_string_errors(
    manager: ProviderManager, model_string: str, message: str
) -> None:
    with pytest.raises(ValueError) as caught:
        manager.get_api_for_model_string(model_string)
    assert str(caught.value) == message
    with pytest.raises(ValueError, match="^Invalid model"):
        manager.validate_model(model_string)


def test_strict_resolution_lists_every_candidate(manager: ProviderManager) -> None:
    with pytest.raises(AmbiguousModelError) as caught:
        manager.get_api_for_model_string("shared-model", strict=True)
    assert caught.value.candidates == ["openai/shared-model", "local/shared-model"]
    assert "openai/shared-model, local/shared-model" in str(caught.value)
    # A provider prefix or a unique name is never ambiguous.
    assert manager.get_api_for_model_string("local/shared-model", strict=True)[1] == "shared-model"
    assert manager.validate_model("qwq", strict=True) == "Qwen/QwQ-32B"
    assert manager.resolution_candidates("shared-model") == [
        "openai/shared-model",
        "local/shared-model",
    ]
    assert manager.resolution_candidates("qwq") == []


def test_find_model_across_providers(manager: ProviderManager) -> None:
    found = manager.find_model("mini")
    assert [(config.name, long) for config, long in found] == [
        ("OpenAI", "gpt-4o-mini"),  # alias "mini"
        ("Together", "mini"),  # exact long id
    ]
    assert manager.find_model_scoped("GPT-4O") == ["openai/gpt-4o", "local/Gpt-4o"]
    assert manager.find_model_scoped("llam") == ["together/meta/llama-3"]
    assert manager.find_model_scoped("local-") == ["local/Gpt-4o"]  # substring of an alias
    assert manager.find_model("absent") == []


def test_in_place_edits_are_seen_by_resolution(manager: ProviderManager) -> None:
    assert manager.validate_model("qwq") == "Qwen/QwQ-32B"
    manager["together"].valid_models["Qwen/QwQ-32B"] = "reasoner"
    manager["openai"].valid_models["o3"] = "o3"
    assert manager.validate_model("reasoner") == "Qwen/QwQ-32B"
    assert manager.validate_model("o3") == "o3"
    with pytest.raises(ValueError, match="Invalid model: qwq"):
        manager.validate_model("qwq")
    manager["new"] = {"valid_models": {"brand-new": "bn"}}
    assert manager.get_api_for_model_string("bn")[0] is manager["new"]


names = st.text(alphabet="abAB-/1", min_size=0, max_size=6)
catalogs = st.lists(
    st.tuples(st.sampled_from(["p", "q", "r", "s"]), st.dictionaries(names, names, max_size=6)),
    max_size=4,
)


@settings(max_examples=300, deadline=None)
@given(catalog=catalogs, needle=names)
def test_find_model_matches_each_configs_find_model(
    catalog: list[tuple[str, dict[str, str]]], needle: str
) -> None:
    providers = {key: ProviderConfig(valid_models=models) for key, models in catalog}
    manager = ProviderManager(providers)
    expected = [
        (key, config.find_model(needle))
        for key, config in providers.items()
        if config.find_model(needle) is not None
    ]
    got = [(config._provider_key, long) for config, long in manager.find_model(needle)]
    assert got == expected


# -- built from a store ------------------------------------------------------------------------


def test_manager_over_a_store_reads_the_catalog(store: ProviderStore) -> None:
    store.save_config("together", ProviderConfig(valid_models={"Qwen/QwQ-32B": "qwq"}))
    store.save_config("openai", ProviderConfig(valid_models={"gpt-4o": "4o"}))
    manager = ProviderManager(store=store)
    assert manager.get_all_provider_names() == ["together", "openai"]
    assert manager.get_api_for_model_string("Qwen/QwQ-32B")[0] is manager["together"]
    assert manager.validate_model("openai/4o") == "gpt-4o"
    store.save_config("openai", ProviderConfig(valid_models={"gpt-4o": "4o", "o3": "o3"}))
    manager.reload()
    assert manager.validate_model("o3") == "o3"


# -- discovery ---------------------------------------------------------------------------------


def chat_models(fake: FakeProvider) -> list[str]:
    return [
        r.json["model"] for r in fake.requests if r.path.endswith("/chat/completions") and r.json
    ]


pytestmark = pytest.mark.fake(
    ["good", "refused", "flaky", "known-bad", "new-good"],
    behaviours={"refused": "refuse", "flaky": "error:503", "known-bad": "refuse"},
)


@pytest.fixture
def quick_service(store: ProviderStore) -> Iterator[ModelDiscoveryService]:
    client = ProviderClient(connect_timeout=0.5, read_timeout=0.5, deadline=1.0, retries=0)
    service = ModelDiscoveryService(store, client=client)
    yield service
    service.close()


def seed(store: ProviderStore, key: str, base_url: str, **fields: object) -> None:
    store.save_config(key, ProviderConfig.model_validate({"base_api_url": base_url, **fields}))


def test_discover_validates_and_persists(
    store: ProviderStore, fake: FakeProvider, quick_service: ModelDiscoveryService
) -> None:
    seed(
        store,
        "p",
        fake.base_url,
        api_key="sk-p",
        valid_models={"flaky": "fl", "refused": "rf", "gone": "gone"},
        invalid_models=["known-bad"],
    )
    manager = ProviderManager(store=store, service=quick_service)

    assert manager.discover_models() is True

    config = manager["p"]
    # valid merged after the curated ones; the refused model moved out of valid_models;
    # the inconclusive (503) model stays where it was; a model not listed any more stays too.
    assert config.valid_models == {
        "flaky": "fl",
        "gone": "gone",
        "good": "good",
        "new-good": "new-good",
    }
    assert config.invalid_models == ["refused", "known-bad"]
    assert "known-bad" not in chat_models(fake)  # already invalid: never pinged
    summary = manager.last_report.providers[0] if manager.last_report else None
    assert summary is not None
    assert (summary.discovered, summary.valid, summary.invalid, summary.inconclusive) == (
        5,
        2,
        2,
        1,
    )
    assert summary.source == "fresh" and summary.error is None
    reloaded = ProviderManager(store=store)["p"]
    assert reloaded.valid_models == config.valid_models
    assert reloaded.invalid_models == config.invalid_models
    verdicts = store.load_verdicts("p")
    assert verdicts["refused"].verdict == "invalid" and verdicts["flaky"].verdict == "inconclusive"


def test_failure_anywhere_persists_nothing_and_keeps_the_failed_catalog(
    store: ProviderStore, fake: FakeProvider, quick_service: ModelDiscoveryService
) -> None:
    with FakeProvider(["x", "y"]) as broken:
        broken.set_model_behaviour("y", "refuse")
        seed(store, "ok", fake.base_url, api_key="sk-ok", valid_models={"flaky": "fl"})
        seed(
            store,
            "broken",
            broken.base_url,
            api_key="sk-broken",
            valid_models={"x": "ex"},
            invalid_models=["y"],
        )
        manager = ProviderManager(store=store, service=quick_service)
        assert manager.discover_models() is True  # both succeed once: the cache holds x, y
        broken.set_failure("error:500")
        broken.reset_counts()
        second_run = time.time()

        assert manager.discover_models(force_refresh=True) is False

        assert manager["broken"].valid_models == {"x": "ex"}
        assert manager["broken"].invalid_models == ["y"]
        assert broken.request_count("/chat/completions") == 0  # a failed provider is not pinged
        report = manager.last_report
        assert report is not None and not report.ok and not report.persisted
        failed = [s for s in report.providers if s.provider == "broken"][0]
        assert failed.status == "failed" and failed.source == "stale"
        assert failed.error is not None and "500" in failed.error
        # The successful provider changed in memory; its curated lists did not reach the
        # store (all or nothing), its verdicts did (they are facts).
        assert "good" in manager["ok"].valid_models
        assert store.load_verdicts("ok")["good"].checked_at >= second_run
        assert ProviderManager(store=store)["ok"].valid_models == {
            "flaky": "fl",
            "good": "good",
            "new-good": "new-good",
        }


def test_persist_on_success_false_changes_memory_only(
    store: ProviderStore, fake: FakeProvider, quick_service: ModelDiscoveryService
) -> None:
    seed(store, "p", fake.base_url, api_key="sk-p")
    manager = ProviderManager(store=store, service=quick_service)
    assert manager.discover_models(persist_on_success=False) is True
    assert "good" in manager["p"].valid_models
    assert ProviderManager(store=store)["p"].valid_models == {}
    assert store.load_verdicts("p") == {}


def test_unsaved_discovery_results_are_not_replaced_by_the_store_view(
    store: ProviderStore, fake: FakeProvider, quick_service: ModelDiscoveryService
) -> None:
    # The run's own list-cache write moves the provider's change token; a manager that looks on
    # every read must still keep what it found but was told not to save.
    seed(store, "p", fake.base_url, api_key="sk-p")
    manager = ProviderManager(store=store, service=quick_service, follow_interval=0)
    assert manager.discover_models(persist_on_success=False) is True
    assert "good" in manager["p"].valid_models
    assert manager.find_model_scoped("good") == ["p/good"]
    manager.reload()  # following the store again: its view, without the unsaved results
    assert manager["p"].valid_models == {}


def test_unknown_provider_is_false(
    store: ProviderStore, quick_service: ModelDiscoveryService
) -> None:
    manager = ProviderManager(store=store, service=quick_service)
    assert manager.discover_models(provider="nope") is False


def test_providers_without_a_key_are_skipped_with_a_message(
    store: ProviderStore,
    fake: FakeProvider,
    quick_service: ModelDiscoveryService,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with FakeProvider(["a"]) as keyless, FakeProvider(["b"]) as from_env:
        seed(store, "keyless", keyless.base_url, api_key="")
        seed(store, "placeholder", keyless.base_url, api_key="sk-not-configured")
        seed(store, "envkey", from_env.base_url, api_key="", valid_models={})
        monkeypatch.setenv("ENVKEY_API_KEY", "sk-from-env-secret")
        manager = ProviderManager(store=store, service=quick_service)
        with caplog.at_level(logging.INFO):
            assert manager.discover_models() is True
        assert keyless.request_count() == 0
        assert "Skipping provider keyless" in caplog.text
        assert "Skipping provider placeholder" in caplog.text
        assert manager["envkey"].valid_models == {"b": "b"}
        assert from_env.requests[0].headers.get("Authorization") == "Bearer sk-from-env-secret"
        report = manager.last_report
        assert report is not None
        assert [s.status for s in report.providers] == ["skipped", "skipped", "ok"]
        assert "sk-from-env-secret" not in caplog.text + repr(report.as_dict())


def test_one_provider_only(
    store: ProviderStore, fake: FakeProvider, quick_service: ModelDiscoveryService
) -> None:
    with FakeProvider(["other"]) as other:
        seed(store, "p", fake.base_url, api_key="sk-p")
        seed(store, "other", other.base_url, api_key="sk-o")
        manager = ProviderManager(store=store, service=quick_service)
        assert manager.discover_models(provider="P") is True
        assert other.request_count() == 0
        assert ProviderManager(store=store)["p"].valid_models
        assert ProviderManager(store=store)["other"].valid_models == {}


class _HoldingProvider(FakeProvider):
    """Holds each ping until ``together`` pings have arrived (at most ``HOLD`` seconds): pings
    that overlap are all in flight at once however slowly a loaded machine starts them, and
    pings sent one after another never are."""

    HOLD = 5.0

    def __init__(self, models: list[str], together: int) -> None:
        super().__init__(models)
        self.together = together

    def pause(self, seconds: float) -> None:
        if self.request_count() == 1:  # the list, which goes first and alone
            return
        deadline = time.monotonic() + self.HOLD
        while self.request_count("/chat/completions") < self.together:
            if time.monotonic() > deadline:
                return
            time.sleep(0.005)


def test_pings_of_one_provider_overlap(store: ProviderStore) -> None:
    models = [f"m{i}" for i in range(8)]
    # Timeouts far above the hold: what is asserted is the overlap, not a speed.
    client = ProviderClient(connect_timeout=5.0, read_timeout=10.0, deadline=20.0, retries=0)
    service = ModelDiscoveryService(store, client=client)
    with _HoldingProvider(models, together=8) as slow:
        seed(store, "slow", slow.base_url, api_key="sk-s")
        manager = ProviderManager(store=store, service=service)
        report = manager.discover(per_provider=8)
        peak = slow.peak_in_flight
    service.close()
    assert report.ok and report.providers[0].valid == 8
    # One /models, which proves the key, then the eight pings in flight together (with an
    # unproven key the first would go alone).
    assert peak == 8


def test_the_global_bound_serialises_pings(
    store: ProviderStore, quick_service: ModelDiscoveryService
) -> None:
    with FakeProvider(["a", "b", "c", "d"], latency=0.15) as slow:
        seed(store, "slow", slow.base_url, api_key="sk-s")
        manager = ProviderManager(store=store, service=quick_service)
        started = time.perf_counter()
        report = manager.discover(concurrency=1, per_provider=8)
        elapsed = time.perf_counter() - started
        peak = slow.peak_in_flight
    assert report.ok
    assert peak == 1
    assert elapsed >= 5 * 0.15  # /models and then four pings, one at a time


def test_a_dead_provider_costs_one_timeout(
    store: ProviderStore, fake: FakeProvider, quick_service: ModelDiscoveryService
) -> None:
    with FakeProvider([f"m{i}" for i in range(10)]) as dying:
        seed(store, "dying", dying.base_url, api_key="sk-d")
        seed(store, "ok", fake.base_url, api_key="sk-ok")
        manager = ProviderManager(store=store, service=quick_service)
        assert manager.discover_models() is True
        dying.set_failure("hang")
        dying.reset_counts()
        started = time.perf_counter()
        assert manager.discover_models(force_refresh=True) is False
        elapsed = time.perf_counter() - started
        assert dying.request_count("/chat/completions") == 0
        assert dying.request_count("/models") == 1
    assert elapsed < 2.5, elapsed  # one 0.5 s read timeout, not eleven
    assert len(manager["dying"].valid_models) == 10


def test_the_deadline_bounds_the_run(
    store: ProviderStore, quick_service: ModelDiscoveryService
) -> None:
    # 0.3 s an answer: well inside the client's 0.5 s read timeout on a loaded machine.
    with FakeProvider([f"m{i}" for i in range(6)], latency=0.3) as slow:
        seed(store, "slow", slow.base_url, api_key="sk-s", valid_models={"m5": "five"})
        manager = ProviderManager(store=store, service=quick_service)
        started = time.perf_counter()
        report = manager.discover(per_provider=1, deadline=1.0)
        elapsed = time.perf_counter() - started
    # Without the deadline: one /models and six pings one at a time, 7 x 0.3 s.
    assert elapsed < 1.9, elapsed
    summary = report.providers[0]
    assert summary.status == "ok" and summary.inconclusive >= 3
    assert manager["slow"].valid_models["m5"] == "five"  # inconclusive: left where it was


def test_no_validate_only_lists(
    store: ProviderStore, fake: FakeProvider, quick_service: ModelDiscoveryService
) -> None:
    seed(store, "p", fake.base_url, api_key="sk-p", valid_models={"refused": "r"})
    manager = ProviderManager(store=store, service=quick_service)
    report = manager.discover(validate=False)
    assert report.ok and report.providers[0].discovered == 5
    assert fake.request_count("/chat/completions") == 0
    assert manager["p"].valid_models == {"refused": "r"}


def test_loose_configs_discover_without_a_store(fake: FakeProvider) -> None:
    manager = ProviderManager({"p": {"base_api_url": fake.base_url, "api_key": "sk-p"}})
    assert manager.discover_models() is True
    assert manager["p"].valid_models == {"good": "good", "new-good": "new-good"}
    assert manager["p"].invalid_models == ["refused", "known-bad"]
    assert manager.validate_model("p/good") == "good"


def test_a_large_catalog_uses_the_index_and_honours_invalidate() -> None:
    providers = {
        f"p{p}": ProviderConfig(
            valid_models={f"org{p}/model-{p}-{i}": f"a{p}x{i}" for i in range(300)}
        )
        for p in range(5)
    }
    manager = ProviderManager(providers)
    assert manager.validate_model("a3x7") == "org3/model-3-7"
    assert manager.find_model_scoped("MODEL-4-29") == ["p4/org4/model-4-29"]
    # Every provider's first id containing "-1" (ids of p1 contain "-1-" from the start).
    assert manager.find_model_scoped("-1")[:2] == ["p0/org0/model-0-1", "p1/org1/model-1-0"]
    for key, config in providers.items():
        assert (key, config.find_model("del-2-1")) in [
            (c._provider_key, long) for c, long in manager.find_model("del-2-1")
        ] or config.find_model("del-2-1") is None
    providers["p0"].valid_models["fresh-id"] = "fresh"
    manager.invalidate()
    assert manager.validate_model("fresh") == "fresh-id"
    manager["extra"] = {"valid_models": {"x-only": "xo"}}  # item assignment rebuilds by itself
    assert manager.validate_model("xo") == "x-only"


def test_progress_events_and_a_broken_callback(
    store: ProviderStore,
    fake: FakeProvider,
    quick_service: ModelDiscoveryService,
) -> None:
    seed(store, "p", fake.base_url, api_key="sk-p")
    events: list[tuple[str, str, int, int]] = []

    def listen(event: ProgressEvent) -> None:
        events.append((event.provider, event.phase, event.completed, event.total))

    manager = ProviderManager(store=store, service=quick_service)
    report = manager.discover(progress=listen)
    assert report.ok and report.persisted
    phases = [phase for _p, phase, _c, _t in events]
    assert phases[0] == "discovering" and phases[-1] == "done"
    assert ("p", "validating", 5, 5) in events

    def broken(event: ProgressEvent) -> None:
        events.append((event.provider, event.phase, event.completed, event.total))
        raise RuntimeError("display broke")

    # An exception in the callback stops the run at once and reaches the caller as it is.
    events.clear()
    with pytest.raises(RuntimeError, match="display broke"):
        manager.discover(progress=broken, force_refresh=True)
    assert events == [("p", "discovering", 0, 0)]


def test_suggestions_stay_bounded_on_a_large_catalog() -> None:
    """Above SIMILAR_SCAN_LIMIT names only substring hints are given across providers; within
    one provider's models (fewer than the limit) similar names are still suggested."""
    manager = ProviderManager(
        {
            f"p{p}": ProviderConfig(
                valid_models={f"org{p}/model-{i}": f"m{p}-{i}" for i in range(3000)}
            )
            for p in range(2)
        }
    )
    with pytest.raises(UnknownModelError) as caught:
        manager.resolve_model("p1/org1/modl-2999")
    assert caught.value.suggestions[0] == "p1/org1/model-2999 (m1-2999)"
    assert caught.value.provider == "p1"
    with pytest.raises(UnknownModelError) as caught:
        manager.resolve_model("org1/model-29999")
    assert caught.value.suggestions == []  # no name contains it; 12,000 names: no similarity scan
    with pytest.raises(UnknownModelError) as caught:
        manager.resolve_model("model-2999")
    assert caught.value.suggestions == [
        "p0/org0/model-2999 (m0-2999)",
        "p1/org1/model-2999 (m1-2999)",
    ]


def test_a_miss_names_the_nearest_models_however_its_error_is_read() -> None:
    """The hints of a miss are searched for when the error is first read (a caller that only
    catches misses does not pay for them); message, args, repr and suggestions agree."""
    manager = ProviderManager(
        {"p": ProviderConfig(valid_models={"org/model-1": "m1", "org/model-2": "m2"})}
    )
    for asked, reason in (
        ("p/org/modl-1", "Invalid model for provider p: org/modl-1"),
        ("org/modl-1", "Invalid model: modl-1"),  # not a provider: the rest is looked up
    ):
        with pytest.raises(UnknownModelError) as caught:
            manager.get_api_for_model_string(asked)
        error = caught.value
        assert error.reason == reason
        assert error.suggestions[0] == "p/org/model-1 (m1)"
        assert str(error).startswith(f"{reason} (did you mean p/org/model-1 (m1)")
        assert error.args == (str(error),)
        assert repr(error) == f"UnknownModelError({str(error)!r})"
    with pytest.raises(UnknownModelError, match=r"did you mean p/org/model-1 \(m1\)"):
        manager.get_api_for_model_string("p/org/modl-1")
    with pytest.raises(UnknownModelError) as caught:
        manager.locate("org/modl-1")
    assert caught.value.suggestions and str(caught.value).startswith("Unknown model: org/modl-1")
