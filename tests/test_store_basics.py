"""Saving and loading ProviderConfigs keeps fields, order and the discovery cache."""

from __future__ import annotations

import pytest

from provider_store import NotFoundError, ProviderConfig, ProviderStore, ValidationResult, Verdict


def test_save_and_load_keep_provider_and_model_order(store: ProviderStore) -> None:
    store.save_config("zeta", ProviderConfig(name="Zeta", valid_models={"b": "b1", "a": "a1"}))
    store.save_config(
        "alpha",
        ProviderConfig(
            name="Alpha",
            base_api_url="https://alpha.example/v1",
            api_key="sk-alpha",
            valid_models={"Qwen/QwQ-32B": "qwq", "m2": "two"},
            invalid_models=["embed-1", "dall-e"],
        ),
    )

    configs = store.load_configs()

    assert list(configs) == ["zeta", "alpha"]
    assert list(configs["zeta"].valid_models.items()) == [("b", "b1"), ("a", "a1")]
    alpha = configs["alpha"]
    assert alpha.model_dump() == {
        "name": "Alpha",
        "base_api_url": "https://alpha.example/v1",
        "api_key": "sk-alpha",
        "valid_models": {"Qwen/QwQ-32B": "qwq", "m2": "two"},
        "invalid_models": ["embed-1", "dall-e"],
    }


def test_resaving_updates_aliases_order_and_drops_removed_models(store: ProviderStore) -> None:
    store.save_config("p", ProviderConfig(valid_models={"a": "a", "b": "b"}, invalid_models=["x"]))
    store.save_config("p", ProviderConfig(valid_models={"b": "bee", "c": "c"}, invalid_models=[]))

    config = store.get_config("p")

    assert list(config.valid_models.items()) == [("b", "bee"), ("c", "c")]
    assert config.invalid_models == []


def test_unknown_provider_is_a_clear_not_found(store: ProviderStore) -> None:
    with pytest.raises(NotFoundError, match="Unknown provider: nope"):
        store.get_config("nope")


def test_data_survives_reopening_the_store(db_url: str) -> None:
    first = ProviderStore(db_url)
    first.save_config("openai", ProviderConfig(valid_models={"gpt-4o": "4o"}))
    first.rows.set_cache_ttl("openai", 60)
    first.close()

    reopened = ProviderStore(db_url)
    config = reopened.get_config("openai")
    reopened.close()

    assert config.valid_models == {"gpt-4o": "4o"}
    assert config._cache_duration == 60


def test_delete_provider_removes_its_models(store: ProviderStore) -> None:
    store.save_config("p", ProviderConfig(valid_models={"a": "a"}))
    store.rows.delete_provider("p")
    store.save_config("p", ProviderConfig())

    assert store.get_config("p").valid_models == {}


@pytest.mark.psycopg
def test_repr_hides_the_password(tmp_path: object) -> None:
    store = ProviderStore("postgresql+psycopg://u:hunter2@127.0.0.1:1/x", auto_migrate=False)
    assert "hunter2" not in repr(store)


def test_dropping_a_model_keeps_its_verdict_and_sightings_as_unverified(
    store: ProviderStore,
) -> None:
    from provider_store import ValidationResult
    from provider_store.catalog.states import Verdict

    store.save_config("p", ProviderConfig(valid_models={"a": "a", "b": "b"}))
    store.rows.record_verdicts("p", [ValidationResult("b", Verdict.VALID, "pong", 1000.0)])
    store.save_config("p", ProviderConfig(valid_models={"a": "a"}))

    assert store.get_config("p").valid_models == {"a": "a"}
    assert store.load_verdicts("p")["b"].verdict == Verdict.VALID
    # Listed again later, the model comes back with its verdict intact.
    store.save_config("p", ProviderConfig(valid_models={"a": "a", "b": "bee"}))
    assert store.get_config("p").valid_models == {"a": "a", "b": "bee"}
    assert store.load_verdicts("p")["b"].checked_at == 1000.0


def test_stored_rows_never_show_the_key(store: ProviderStore) -> None:
    store.save_config("p", ProviderConfig(api_key="sk-row-secret"))
    with store.read() as session:
        row = store.rows.get_provider("p", session=session)
        shown = repr(row) + str(row)
    assert "sk-row-secret" not in shown


def test_verdicts_and_hand_marks_of_many_providers_in_one_read(store: ProviderStore) -> None:
    store.save_config("a", ProviderConfig(valid_models={"m1": "m1", "m2": "m2"}))
    store.save_config("b", ProviderConfig(valid_models={"m1": "m1"}))
    store.rows.record_verdicts(
        "a",
        [
            ValidationResult("m1", Verdict.VALID, "pong", 10.0, ping_style="mct"),
            ValidationResult("m2", Verdict.INVALID, "not a chat model", 11.0),
        ],
    )
    store.mark_model("b", "m1", "invalid", reason="too dear")

    verdicts = store.rows.verdicts_of(["a", "b", "gone"])
    assert verdicts["a"] == store.load_verdicts("a")
    assert verdicts["a"]["m1"].ping_style == "mct"
    assert verdicts["b"] == store.load_verdicts("b")
    assert verdicts["gone"] == {}
    assert store.rows.hand_marks_of(["a", "b", "gone"]) == {
        "a": {},
        "b": {"m1": "invalid"},
        "gone": {},
    }


def test_curated_lists_of_many_providers_in_one_write(store: ProviderStore) -> None:
    store.save_config("a", ProviderConfig(valid_models={"m1": "one"}, invalid_models=["x"]))
    store.save_config("b", ProviderConfig(valid_models={"m1": "m1"}))

    def add_m2(config: ProviderConfig) -> None:
        config.valid_models["m2"] = "two"

    def drop_all(config: ProviderConfig) -> None:
        config.valid_models.clear()
        config.invalid_models.append("m1")

    missing = store.rows.update_curated_many({"a": add_m2, "gone": add_m2, "b": drop_all})

    assert missing == ["gone"]
    a, b = store.get_config("a"), store.get_config("b")
    assert a.valid_models == {"m1": "one", "m2": "two"} and a.invalid_models == ["x"]
    assert b.valid_models == {} and b.invalid_models == ["m1"]
    assert store.provider_keys() == ["a", "b"]
