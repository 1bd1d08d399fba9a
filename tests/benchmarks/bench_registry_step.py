"""The registry step of ``discover`` with an unchanged registry: what it costs before and after
the fill fingerprint.

Run: ``.venv/bin/python tests/benchmarks/bench_registry_step.py [--rounds N]`` (not collected by
pytest) with ``PROVIDER_STORE_ANSWERS_DIR`` and ``PROVIDER_STORE_REGISTRIES_DIR`` set. Loopback
fake providers serve the ids of recorded lists (OpenAI, Mistral, Groq, Gemini, DashScope,
Together, Anthropic) under their registry names, so that both registries
match as for a user; the LiteLLM cost map is the recorded one (3.5 MB), models.dev the
installed package. One discover fills the catalog; then, ``--rounds`` times, the same work a
``discover --force-refresh --no-validate`` does with ``$PROVIDER_STORE_LITELLM`` set, measured
in parts:

- ``listing``: the discovery (every list fetched again; unchanged);
- ``registry, redone``: the registry step doing all of its work, as it did on every run before
  fills were fingerprinted (read, parse, match, write; the parse caches emptied first, as in a
  new process);
- ``registry, unchanged``: the registry step as it is now with nothing changed (read and hash
  both registries, compare the fingerprints, confirm the fills).

Prints the median of each, the discover time with each registry step, and the ratio.
``BENCH_REGISTRY_CODE=DIR`` measures another checkout's package (its registry step is measured
as it is, whatever it does).
"""

from __future__ import annotations

import argparse
import gc
import inspect
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

CODE_ENV = "BENCH_REGISTRY_CODE"
if os.environ.get(CODE_ENV):
    sys.path.insert(0, os.environ[CODE_ENV])

from provider_store import ProviderConfig, ProviderManager, ProviderStore  # noqa: E402
from provider_store.testing import FakeProvider  # noqa: E402

# provider key (its registry name) -> recorded list
RECORDED = {
    "openai": "openai.models.json",
    "mistral": "mistral.models.json",
    "groq": "groq.models.json",
    "gemini": "gemini-native.models-pagesize1000.json",
    "dashscope": "alibaba-dashscope.models.json",
    "together": "together.models.trimmed.json",
    "anthropic": "anthropic.models.json",
}
KEY = "sk-bench-0123456789"


def recorded_ids(name: str) -> list[str]:
    document = json.loads((Path(os.environ["PROVIDER_STORE_ANSWERS_DIR"]) / name).read_bytes())
    items = document
    if isinstance(document, dict):
        items = next(document[k] for k in ("data", "models") if isinstance(document.get(k), list))
    return [str(i.get("id") or i["name"]).removeprefix("models/") for i in items]


def clear_parse_caches() -> None:
    """Forget parsed registries, as a new process would."""
    for module in ("provider_store.registries.litellm", "provider_store.registries.models_dev"):
        loaded = sys.modules.get(module)
        cache = getattr(loaded, "_PARSED", None)
        if isinstance(cache, dict):
            cache.clear()
        installed = getattr(loaded, "_installed", None)
        if installed is not None and hasattr(installed, "cache_clear"):
            installed.cache_clear()


def timed(work: Callable[[], Any]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    registries = os.environ.get("PROVIDER_STORE_REGISTRIES_DIR")
    if not registries:
        print("set PROVIDER_STORE_REGISTRIES_DIR to the folder of recorded registries")
        return 2
    litellm = Path(registries) / "litellm-model-prices-1.110.2.json"
    fill = ProviderStore.fill_from_registries
    can_force = "force" in inspect.signature(fill).parameters
    with ExitStack() as stack, tempfile.TemporaryDirectory() as folder:
        store = ProviderStore(f"sqlite:///{folder}/catalog.db")
        stack.callback(store.close)
        total = 0
        for key, name in RECORDED.items():
            ids = recorded_ids(name)
            total += len(ids)
            fake = stack.enter_context(FakeProvider(ids, api_key=KEY))
            store.save_config(
                key, ProviderConfig(name=key, base_api_url=fake.base_url, api_key=KEY)
            )
        manager = ProviderManager(store=store)
        stack.callback(manager.close)
        keys = list(RECORDED)

        def listing() -> None:
            manager.discover(force_refresh=True, validate=False)

        def redone() -> None:
            if can_force:
                store.fill_from_registries(litellm=litellm, providers=keys, force=True)
            else:
                store.fill_from_registries(litellm=litellm, providers=keys)

        def unchanged() -> None:
            store.fill_from_registries(litellm=litellm, providers=keys)

        listing()
        redone()  # the first fill
        figures: dict[str, list[float]] = {"listing": [], "redone": [], "unchanged": []}
        for _ in range(args.rounds):
            figures["listing"].append(timed(listing))
            clear_parse_caches()  # outside the timing: a new process has nothing to free
            gc.collect()
            figures["redone"].append(timed(redone))
            clear_parse_caches()
            gc.collect()
            figures["unchanged"].append(timed(unchanged))
    median = {name: statistics.median(values) for name, values in figures.items()}
    before = median["listing"] + median["redone"]
    after = median["listing"] + median["unchanged"]
    lines = [
        f"{len(RECORDED)} providers, {total} models, {args.rounds} rounds (medians)",
        f"listing (discover --force-refresh --no-validate): {median['listing']:.3f} s",
        f"registry step, all redone:    {median['redone']:.3f} s",
        f"registry step, unchanged:     {median['unchanged']:.3f} s"
        + ("" if can_force else "  (this code has no fingerprint: it redoes everything)"),
        f"discover, registry step redone:  {before:.3f} s"
        f" ({median['redone'] / before:.0%} registry)",
        f"discover, unchanged registry:    {after:.3f} s"
        f" ({median['unchanged'] / after:.0%} registry)",
        f"registry step unchanged / redone: {median['unchanged'] / median['redone']:.3f}",
    ]
    sys.stdout.write("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
