"""No module of provider_store reads or writes another object's private attributes.

State that travels between modules is an explicit object or argument (e.g. a config's
``list_cache`` and ``catalog_key``), never ``other._attribute``. Inside a class, ``self._x`` and
``cls._x`` are its own business; anything else named ``X._y`` is an offence.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "provider_store"

# Third-party objects whose private attributes the package must use, with the reason. Keep empty.
ALLOWED: dict[str, str] = {
    "os._exit": "a documented exit without interpreter clean-up: after Ctrl-C the CLI must not"
    " wait for worker threads blocked in a ping (concurrent.futures joins them at exit)",
}

OWN = {"self", "cls"}


def private_accesses(source: str, name: str) -> list[str]:
    """``name:line: expr`` for every ``X._attr`` in ``source`` where X is not self or cls."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Attribute) or not node.attr.startswith("_"):
            continue
        if node.attr.startswith("__") and node.attr.endswith("__"):
            continue  # dunders are the language's protocol, not a private attribute
        if isinstance(node.value, ast.Name) and node.value.id in OWN:
            continue
        text = ast.unparse(node)
        if text not in ALLOWED:
            found.append(f"{name}:{node.lineno}: {text}")
    return found


def test_no_module_touches_another_objects_private_attributes() -> None:
    offences = [
        hit
        for path in sorted(PACKAGE.rglob("*.py"))
        for hit in private_accesses(
            path.read_text(encoding="utf-8"), str(path.relative_to(PACKAGE))
        )
    ]
    assert offences == []


def test_the_check_sees_an_offence_and_spares_self_cls_and_dunders() -> None:
    code = (
        "class C:\n"
        "    def f(self, config):\n"
        "        config._cached_models = []\n"
        "        return self._x, cls._y, type(config).__name__, other.method()._z\n"
    )
    assert private_accesses(code, "sample.py") == [
        "sample.py:3: config._cached_models",
        "sample.py:4: other.method()._z",
    ]
