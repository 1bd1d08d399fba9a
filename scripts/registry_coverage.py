"""What the registries fill for the recorded provider lists, through a real catalog.

    python scripts/registry_coverage.py ANSWERS_DIR [--litellm FILE] [--db URL] [--json]

ANSWERS_DIR holds ``/models`` answers recorded from real providers; :data:`RECORDED` names the
one list per provider used here, with the provider's real base URL (so that the host decides, as
for a user). Each list is stored in a catalog (a temporary SQLite file unless ``--db``) as a
discovery would store it, then ``fill_from_registries`` attributes models.dev and, when given,
a LiteLLM cost map. The table counts, per provider and source, the ids whose match fills at
least one value, the ids matched without any value ("known, no metadata"), ambiguous or
conflicting matches and ids without an entry; then the disagreements ``registries check``
reports (fields, and models they touch).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from provider_store import ProviderConfig, ProviderStore
from provider_store.catalog.disagreements import provider_disagreements
from provider_store.providers.listed_info import model_infos

# provider key -> (recorded list file, base URL, kind)
RECORDED: dict[str, tuple[str, str, str]] = {
    "alibaba": (
        "alibaba-dashscope.models.json",
        "https://dashscope-intl.aliyuncs.com/compatible-mode/v1",
        "openai",
    ),  # noqa: E501
    "anthropic": ("anthropic.models.json", "https://api.anthropic.com/v1", "anthropic"),
    "baseten": ("baseten.models.json", "https://inference.baseten.co/v1", "openai"),
    "cerebras": ("cerebras.models-2026.json", "https://api.cerebras.ai/v1", "openai"),
    "cohere": ("cohere.models.trimmed.json", "https://api.cohere.ai/compatibility/v1", "openai"),
    "deepseek": ("deepseek.models.json", "https://api.deepseek.com", "openai"),
    "gemini": (
        "gemini-native.models-pagesize1000.json",
        "https://generativelanguage.googleapis.com/v1beta",
        "gemini",
    ),  # noqa: E501
    "github-models": (
        "github-models.catalog.trimmed.json",
        "https://models.github.ai/inference",
        "openai",
    ),  # noqa: E501
    "groq": ("groq.models.json", "https://api.groq.com/openai/v1", "openai"),
    "heroku": ("heroku.available-models.json", "https://us.inference.heroku.com/v1", "openai"),
    "llamacpp": ("llamacpp.models.json", "http://127.0.0.1:8080/v1", "openai"),
    "lmstudio": ("lmstudio.openai-models.json", "http://127.0.0.1:1234/v1", "openai"),
    "mistral": ("mistral.models.json", "https://api.mistral.ai/v1", "openai"),
    "ollama": ("ollama.openai-models.json", "http://127.0.0.1:11434/v1", "openai"),
    "openai": ("openai.models.json", "https://api.openai.com/v1", "openai"),
    "openrouter": ("openrouter.models.2026.json", "https://openrouter.ai/api/v1", "openai"),
    "together": ("together.models.trimmed.json", "https://api.together.xyz/v1", "openai"),
    "vllm": ("vllm.models.json", "http://127.0.0.1:8000/v1", "openai"),
    "xai": ("xai.models.docs-example.json", "https://api.x.ai/v1", "openai"),
    "xiaomi": ("xiaomi-mimo.models.json", "https://api.xiaomimimo.com/v1", "openai"),
}


def listed_items(document: Any) -> list[dict[str, Any]]:
    """The model items of a recorded list body (Gemini's ``models/`` prefixes dropped)."""
    items: Any = document
    if isinstance(document, dict):
        items = next(
            (document[k] for k in ("data", "models") if isinstance(document.get(k), list)), []
        )
    found = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        item = dict(item)
        if not isinstance(item.get("id"), str):
            name = next(
                (item[k] for k in ("name", "key", "model_id") if isinstance(item.get(k), str)),
                None,
            )
            if name is None:
                continue
            item["id"] = name.removeprefix("models/")
        found.append(item)
    return found


def load_recorded(store: ProviderStore, answers: Path, keys: list[str] | None = None) -> int:
    """Store each recorded list as provider KEY's discovered list; the number of ids stored."""
    total = 0
    for key, (name, base_url, kind) in RECORDED.items():
        if keys is not None and key not in keys:
            continue
        path = answers / name
        if not path.exists():
            continue
        items = listed_items(json.loads(path.read_bytes()))
        store.save_config(key, ProviderConfig(name=key, base_api_url=base_url, kind=kind))
        store.write_cache(key, items, fetched_at=time.time())
        store.write_model_infos(key, model_infos(items))
        total += len(items)
    return total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("answers", type=Path)
    parser.add_argument("--litellm", type=Path)
    parser.add_argument("--db", help="a catalog URL (default: a temporary SQLite file)")
    parser.add_argument("--json", action="store_true", help="print the counts as JSON")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.db or f"sqlite:///{folder}/catalog.db"
        store = ProviderStore(url)
        try:
            listed = load_recorded(store, args.answers)
            fills = store.fill_from_registries(litellm=args.litellm)
            with store.read() as session:
                found = [
                    d for key in store.provider_keys() for d in provider_disagreements(session, key)
                ]  # noqa: E501
            report = _report(listed, fills, found)
        finally:
            store.close()
    if args.json:
        print(json.dumps(report, indent=2))  # noqa: T201 - a script's output
    else:
        _print(report)
    return 0


def _report(listed: int, fills: list[Any], found: list[Any]) -> dict[str, Any]:
    per_source: dict[str, Counter[str]] = {}
    rows = []
    for fill in fills:
        counts = per_source.setdefault(fill.source, Counter())
        counts.update(
            filled=fill.matched,
            known_empty=fill.known_empty,
            ambiguous=fill.ambiguous,
            no_entry=fill.unmatched,
        )
        rows.append(
            {
                "provider": fill.provider,
                "source": fill.source,
                "filled": fill.matched,
                "known_empty": fill.known_empty,
                "ambiguous": fill.ambiguous,
                "no_entry": fill.unmatched,
            }
        )
    by_field = Counter(d.field for d in found)
    return {
        "listed_ids": listed,
        "providers": rows,
        "totals": {source: dict(counts) for source, counts in per_source.items()},
        "disagreements": {
            "fields": len(found),
            "models": len({d.model_id for d in found}),
            "by_field": dict(sorted(by_field.items())),
        },
    }


def _print(report: dict[str, Any]) -> None:
    out = sys.stdout.write
    out(f"{'provider':14} {'source':34} {'filled':>6} {'empty':>6} {'ambig':>6} {'none':>6}\n")
    for row in report["providers"]:
        out(
            f"{row['provider']:14} {row['source']:34} {row['filled']:>6} {row['known_empty']:>6}"
            f" {row['ambiguous']:>6} {row['no_entry']:>6}\n"
        )
    out(f"\nlisted ids: {report['listed_ids']}\n")
    for source, counts in report["totals"].items():
        out(
            f"{source}: {counts.get('filled', 0)} fill at least one value,"
            f" {counts.get('known_empty', 0)} known without metadata,"
            f" {counts.get('ambiguous', 0)} ambiguous or conflicting,"
            f" {counts.get('no_entry', 0)} without an entry\n"
        )
    d = report["disagreements"]
    out(f"disagreements: {d['fields']} fields on {d['models']} models {d['by_field']}\n")


if __name__ == "__main__":
    sys.exit(main())
