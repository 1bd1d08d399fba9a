"""How many recorded provider lists' models each registry can describe.

    python scripts/registry_coverage.py ANSWERS_DIR [--litellm FILE]

ANSWERS_DIR holds ``/models`` answers recorded from real providers (``PROVIDER.*models*.json``);
the provider key is the file name's first part. Each listed id is matched with the catalog's own
rule (:mod:`provider_store.registries.entries`) against the installed models.dev data and, when
given, a LiteLLM cost map; the table counts exact, folded and prefix matches, ambiguous ones and
misses per file.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from provider_store.registries.entries import Registry
from provider_store.registries.litellm import load_litellm
from provider_store.registries.models_dev import load_models_dev

# Base URLs of the recorded providers whose file prefix is not their registry name.
BASE_URLS = {
    "gemini-native": "https://generativelanguage.googleapis.com/v1beta",
    "gemini-openai": "https://generativelanguage.googleapis.com/v1beta/openai",
    "alibaba-dashscope": "https://dashscope-intl.aliyuncs.com/compatible-mode/v1",
    "together": "https://api.together.xyz/v1",
}
ID_FIELDS = ("id", "name", "key", "model_id")


def listed_ids(document: Any) -> list[str]:
    """The ids a recorded list body names (``models/`` prefixes of Gemini dropped)."""
    items: Any = document
    if isinstance(document, dict):
        items = next(
            (document[k] for k in ("data", "models") if isinstance(document.get(k), list)), []
        )
    ids = []
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict):
            value = next((item[f] for f in ID_FIELDS if isinstance(item.get(f), str)), None)
            if value:
                ids.append(value.removeprefix("models/"))
    return ids


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("answers", type=Path)
    parser.add_argument("--litellm", type=Path)
    args = parser.parse_args()
    registries: list[Registry] = [load_models_dev()]
    if args.litellm:
        registries.append(load_litellm(args.litellm))
    totals: dict[str, Counter[str]] = {r.source: Counter() for r in registries}
    listed_total = 0
    print(f"{'file':44} {'listed':>6}  " + "  ".join(f"{r.source:>28}" for r in registries))
    for path in sorted(args.answers.glob("*models*.json")):
        if path.name.count(".") >= 3 and path.name.split(".")[-2].isdigit():
            continue  # an error answer (…401.json)
        try:
            ids = listed_ids(json.loads(path.read_bytes()))
        except ValueError:
            continue
        if not ids:
            continue
        key = path.name.split(".")[0]
        base_url = BASE_URLS.get(key, "")
        listed_total += len(ids)
        cells = []
        for registry in registries:
            counts: Counter[str] = Counter()
            for model_id in ids:
                match = registry.match(key, base_url, model_id)
                outcome = "ambiguous" if match.ambiguous else ("matched" if match.entry else "none")
                counts[outcome] += 1
            totals[registry.source].update(counts)
            cells.append(f"{counts['matched']:>6} matched {counts['ambiguous']:>3} ambiguous")
        print(f"{path.name:44} {len(ids):>6}  " + "  ".join(f"{c:>28}" for c in cells))
    print(
        f"{'total':44} {listed_total:>6}  "
        + "  ".join(
            f"{t['matched']:>6} matched {t['ambiguous']:>3} ambiguous" for t in totals.values()
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
