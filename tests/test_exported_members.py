"""The public API is exactly what we mean it to be, and every name in it is importable.

``provider_store._LAZY_NAMES`` is the one list of public names: ``__all__`` is derived from it and
the ``TYPE_CHECKING`` imports are checked against it here (no fourth copy of the list).
"""

from __future__ import annotations

import ast
import inspect
import re
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pydantic

import provider_store
from provider_store import errors
from provider_store.discovery.run_report import ProgressCallback

PACKAGE_INIT = Path(provider_store.__file__)


def type_checking_imports() -> dict[str, str]:
    """The names the ``if TYPE_CHECKING:`` block of ``provider_store/__init__.py`` imports, with
    the module each comes from."""
    tree = ast.parse(PACKAGE_INIT.read_text(encoding="utf-8"))
    block = next(
        node
        for node in tree.body
        if isinstance(node, ast.If)
        and isinstance(node.test, ast.Name)
        and node.test.id == "TYPE_CHECKING"
    )
    return {
        alias.asname or alias.name: node.module or ""
        for node in block.body
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }


def test_all_is_the_lazy_names_sorted() -> None:
    """``_LAZY_NAMES`` is the one list of public names; ``__all__`` follows from it."""
    lazy = provider_store._LAZY_NAMES
    assert provider_store.__all__ == sorted([*lazy, "__version__"])


def test_type_checking_imports_match_the_lazy_names() -> None:
    assert type_checking_imports() == provider_store._LAZY_NAMES


def test_every_error_of_the_tree_is_public() -> None:
    tree = {
        name
        for name, value in vars(errors).items()
        if isinstance(value, type) and issubclass(value, Exception)
    }
    assert tree <= set(provider_store.__all__)


def test_dir_shows_the_public_names_not_typing_helpers() -> None:
    shown = dir(provider_store)
    assert set(provider_store.__all__) <= set(shown)
    assert "Any" not in shown and "TYPE_CHECKING" not in shown


def test_every_public_name_is_importable_and_documented() -> None:
    for name in provider_store.__all__:
        member = getattr(provider_store, name)
        if name != "__version__":
            assert member.__doc__, f"{name} has no docstring"


def test_public_classes_say_they_belong_to_provider_store() -> None:
    for name in provider_store.__all__:
        member = getattr(provider_store, name)
        module = getattr(member, "__module__", "provider_store")
        assert module.startswith("provider_store"), name


def _types_in(hint: Any) -> Iterator[Any]:
    yield hint
    for arg in typing.get_args(hint):
        if isinstance(arg, list):  # Callable[[A, B], R]
            for item in arg:
                yield from _types_in(item)
        else:
            yield from _types_in(arg)


def test_every_type_in_a_public_signature_is_exported() -> None:
    """A user can import, from the package, every provider_store type a public name mentions."""
    names = {"ProgressCallback": ProgressCallback, "BaseModel": pydantic.BaseModel}
    names |= {name: getattr(provider_store, name) for name in provider_store.__all__}
    missing: dict[str, str] = {}
    for name in provider_store.__all__:
        member = getattr(provider_store, name)
        targets = [(name, member)]
        if inspect.isclass(member):
            targets += [
                (f"{name}.{attr}", value.fget if isinstance(value, property) else value)
                for attr, value in inspect.getmembers(member)
                if not attr.startswith("_") or attr == "__init__"
            ]
        for where, target in targets:
            module = getattr(target, "__module__", None) or ""
            if not callable(target) or not module.startswith("provider_store"):
                continue
            hints = typing.get_type_hints(target, localns=names)
            for hint in hints.values():
                for kind in _types_in(hint):
                    module = getattr(kind, "__module__", "")
                    type_name = getattr(kind, "__name__", "")
                    if module.startswith("provider_store") and type_name not in names:
                        missing[f"{module}.{type_name}"] = where
    assert missing == {}


# ProviderStore's public methods: the documented operations (README, "Every operation of
# ProviderStore"), each once. Internals (cache and verdict writes, change tokens, provider rows)
# are CatalogRows methods, reached by the wings through ``store.rows``.
PROVIDER_STORE_OPERATIONS = {
    # opening and transactions
    "close",
    "read",
    "transaction",
    # providers
    "add_provider",
    "all_provider_details",
    "get_config",
    "load_configs",
    "provider_details",
    "provider_keys",
    "removal_plan",
    "remove_providers",
    "rename_provider",
    "save_config",
    "set_api_key",
    "update_provider",
    # models
    "aliases",
    "hand_marks",
    "list_model_infos",
    "load_verdicts",
    "mark_model",
    "model_info",
    "model_metadata",
    "models_metadata",
    "read_cache",
    "set_alias",
    "set_model_metadata",
    # registries
    "disagreements",
    "fill_from_registries",
    "registry_sources",
    # legacy YAML
    "export_yaml",
    "export_yaml_bytes",
    "import_yaml",
    # history
    "changes",
    "model_stats",
    "prune_history",
    "retention_days",
    "set_retention_days",
    # the schema
    "downgrade_schema",
    "plan_downgrade",
    "schema_history",
    "schema_status",
    "upgrade_schema",
}


def public_methods(cls: type) -> set[str]:
    return {name for name, value in inspect.getmembers(cls) if callable(value) and name[0] != "_"}


def test_provider_store_public_methods_are_the_documented_operations() -> None:
    assert public_methods(provider_store.ProviderStore) == PROVIDER_STORE_OPERATIONS


def test_catalog_store_has_no_operations_beyond_its_transactions() -> None:
    """The type the wings below store.py take is the connection, not a second class to edit
    the catalog through."""
    assert public_methods(provider_store.CatalogStore) == {"close", "read", "transaction"}


def test_the_readme_lists_every_operation_and_no_other() -> None:
    readme = (PACKAGE_INIT.parents[1] / "README.md").read_text(encoding="utf-8")
    start = readme.index("**Every operation of `ProviderStore`.**")
    section = readme[start : readme.index("\n\n", readme.index("\n- ", start) + 1)]
    listed = set(re.findall(r"`([a-z_]+)`", section))
    assert listed == PROVIDER_STORE_OPERATIONS
