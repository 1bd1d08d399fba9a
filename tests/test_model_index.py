"""The resolution index takes in one provider's change on its own, and answers exactly as an
index built from scratch over the same catalog."""

from __future__ import annotations

import gc
import random

from helpers import wait_until

from provider_store import ProviderConfig, ProviderManager, ProviderStore
from provider_store.resolution.model_index import ModelIndex

WORDS = ["gpt", "Llama", "qwen", "mistral", "o1", "mini", "4o", "turbo", "x", "Pro"]


def random_models(rnd: random.Random) -> dict[str, str]:
    models: dict[str, str] = {}
    for _ in range(rnd.randrange(0, 12)):
        long = "-".join(rnd.choice(WORDS) for _ in range(rnd.randrange(1, 4)))
        alias = rnd.choice([long, long.upper(), rnd.choice(WORDS), f"{rnd.choice(WORDS)}-a"])
        models[long] = alias
    return models


def answers(index: ModelIndex) -> list[object]:
    needles = [*WORDS, "gpt-4o", "LLAMA", "a", "-a", "o", "zz", "qwen-mini", "Pro-x"]
    seen: list[object] = [list(index.longs), list(index.owner), len(index)]
    for needle in needles:
        seen.append(index.lookup(needle))
        seen.append(index.find(needle))
        seen.append(index.nearest(needle))
        for position in range(len(index.keys)):
            seen.append(index.lookup(needle, provider=position))
            seen.append(index.nearest(needle, provider=position))
    return seen


def test_replacing_providers_answers_like_a_fresh_index() -> None:
    rnd = random.Random(26)
    for _ in range(60):
        catalog = [(f"p{i}", random_models(rnd)) for i in range(rnd.randrange(1, 7))]
        index = ModelIndex(catalog)
        index.find("gpt")  # substring indexes built before the change, then kept up to date
        for _ in range(rnd.randrange(1, 5)):
            position = rnd.randrange(len(catalog))
            catalog[position] = (catalog[position][0], random_models(rnd))
            index.replace(position, catalog[position][1])
        assert answers(index) == answers(ModelIndex(catalog))


def test_a_large_index_adds_few_objects_to_the_garbage_collectors_walk() -> None:
    """Names, holders and trigram postings are tuples the cyclic garbage collector stops
    tracking, so a full collection in a process holding 10,000 models walks a few objects more,
    not one per name (a full collection's pause grows with what it walks)."""
    catalog = [(f"p{i}", {f"org/model-{j}": f"m{j}" for j in range(500)}) for i in range(20)]
    gc.collect()
    before = len(gc.get_objects())
    index = ModelIndex(catalog)
    assert index.find("model-7")  # builds every provider's trigram postings
    catalog[3] = ("p3", {**catalog[3][1], "org/new": "n"})
    index.replace(3, catalog[3][1])
    index.find("model-8")
    gc.collect()
    assert len(gc.get_objects()) - before < 200
    assert answers(index)[:3] == answers(ModelIndex(catalog))[:3]


def test_a_following_manager_takes_in_one_provider_without_a_rebuild(db_url: str) -> None:
    store = ProviderStore(db_url)
    editor = ProviderStore(db_url)
    try:
        for i in range(3):  # 1,200 models: above the size at which contents are compared
            models = {f"m{j}": f"p{i}-alias-{j}" for j in range(400)}
            store.save_config(f"p{i}", ProviderConfig(name=f"P{i}", valid_models=models))
        manager = ProviderManager(store=store, follow_interval=0.0)
        assert manager.get_api_for_model_string("p1/m5")[1] == "m5"
        index = manager.resolver.index(manager.providers)

        config = editor.get_config("p1")
        del config.valid_models["m5"]
        config.valid_models["fresh"] = "fresh-alias"
        editor.save_config("p1", config)

        assert wait_until(lambda: "p1/fresh" in manager.scoped_models("p1"), 10)  # NOTIFY on PG
        assert manager.get_api_for_model_string("fresh-alias")[1] == "fresh"
        assert manager.resolver.index(manager.providers) is index  # taken in, not rebuilt
        assert manager.follow_stats.providers_reloaded == 1
        assert manager.get_api_for_model_string("p1/fresh")[1] == "fresh"
        assert manager.get_api_for_model_string("p2/m399")[1] == "m399"
        assert manager.get_api_for_model_string("p1-alias-6")[0].name == "P1"
        assert manager.get_api_for_model_string("p2-alias-7")[0].name == "P2"
        assert "p1/m5" not in manager.scoped_models("p1")
    finally:
        editor.close()
        store.close()
