"""The package keeps its wings apart."""

from __future__ import annotations

import ast
import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "provider_store"

ARCHITECTURE = PACKAGE.parent / "ARCHITECTURE.md"
TABLE_HEADER = "| wing | owns | may import |"


def allow_list(text: str) -> dict[str, set[str]]:
    """Wing -> the wings it may import, read from the import table of ARCHITECTURE.md.

    A row's wing is the first name in backticks of its first cell (``catalog/``, ``store``);
    its allowances are every name in backticks of its last cell ("nothing" for none).
    """
    lines = text.splitlines()
    start = lines.index(TABLE_HEADER) + 2
    table: dict[str, set[str]] = {}
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        wing = re.findall(r"`([^`]+)`", cells[0])[0].removesuffix("/")
        table[wing] = {name.removesuffix("/") for name in re.findall(r"`([^`]+)`", cells[-1])}
    return table


def unit_of(path: Path, root: Path) -> str:
    """The wing a file belongs to: its top-level module or subpackage (``provider_store`` for
    the package's own ``__init__.py``)."""
    parts = path.relative_to(root).parts
    if parts == ("__init__.py",):
        return root.name
    return parts[0].removesuffix(".py")


def imported_units(path: Path, root: Path) -> set[str]:
    """The wings of the package that ``path`` imports, with relative imports resolved;
    ``provider_store`` for a name the package exports (``from provider_store import X``)."""
    package = root.name
    here = [package, *path.relative_to(root).parent.parts]
    modules: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = here[: len(here) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            modules += [base] if base != package else [f"{base}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            modules += [alias.name for alias in node.names]
    units: set[str] = set()
    for module in modules:
        parts = module.split(".")
        if parts[0] != package:
            continue
        if len(parts) == 1:
            units.add(package)
        elif (root / parts[1]).is_dir() or (root / f"{parts[1]}.py").is_file():
            units.add(parts[1])
        else:
            units.add(package)
    return units


def import_offences(root: Path, table: dict[str, set[str]]) -> list[str]:
    """Every import of a wing that the table does not allow, and every wing with no row."""
    offences = []
    for path in sorted(root.rglob("*.py")):
        unit = unit_of(path, root)
        if unit not in table:
            offences.append(f"{path.relative_to(root)}: {unit} has no row in the table")
            continue
        for target in sorted(imported_units(path, root)):
            if target != unit and target not in table[unit]:
                offences.append(f"{path.relative_to(root)} ({unit}) imports {target}")
    return offences


def test_the_table_allows_every_import_and_nothing_else() -> None:
    table = allow_list(ARCHITECTURE.read_text(encoding="utf-8"))
    assert import_offences(PACKAGE, table) == []


def test_the_table_names_only_wings_and_each_imports_only_rows_above_it() -> None:
    table = allow_list(ARCHITECTURE.read_text(encoding="utf-8"))
    order = list(table)
    units = {unit_of(path, PACKAGE) for path in PACKAGE.rglob("*.py")}
    assert set(order) == units
    for position, wing in enumerate(order):
        assert table[wing] <= set(order[:position]), wing


def test_the_check_fails_on_an_import_the_table_does_not_allow(tmp_path: Path) -> None:
    root = tmp_path / "provider_store"
    files = {
        "__init__.py": "",
        "errors.py": "",
        "rules/__init__.py": "from provider_store.errors import E\n",
        "rules/limits.py": "from provider_store.catalog import tables\n",
        "catalog/__init__.py": "",
        "catalog/rows.py": "from provider_store import rules\nfrom . import tables\n",
        "catalog/face.py": "from provider_store import ProviderStore\n",
        "catalog/tables.py": "from ..cli import app\n",
        "cli/__init__.py": "",
        "cli/app.py": (
            "from provider_store import ProviderStore\n"
            "from provider_store.catalog.tables import T\n"
            "import provider_store.errors\n"
        ),
        "stray.py": "import os\n",
    }
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    table = {
        "provider_store": set(),
        "errors": set(),
        "rules": {"errors"},
        "catalog": {"errors", "rules"},
        "cli": {"provider_store", "errors"},
    }
    assert import_offences(root, table) == [
        "catalog/face.py (catalog) imports provider_store",
        "catalog/tables.py (catalog) imports cli",
        "cli/app.py (cli) imports catalog",
        "rules/limits.py (rules) imports catalog",
        "stray.py: stray has no row in the table",
    ]


# The public API, which is all the CLI may import: the package's names and these modules
# (``serve``: the HTTP server's runner, an optional extra, for the command of that name).
PUBLIC_MODULES = {"errors", "rules", "model_info", "provider_config", "suggestions", "store"}
PUBLIC_MODULES |= {"serve"}


def cli_import_offences(root: Path, public_names: set[str]) -> list[str]:
    """Every import of the CLI that is not the public API: a module of the package outside
    :data:`PUBLIC_MODULES` and ``cli``, or a name the package does not export; and every use
    of a store's internal row operations (``store.rows``)."""
    package = root.name
    offences = []
    for path in sorted((root / "cli").rglob("*.py")):
        where = path.relative_to(root)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr == "rows":
                offences.append(f"{where}:{node.lineno} reaches the store's rows")
                continue
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module == package:
                offences += [
                    f"{where} imports {package}.{alias.name}"
                    for alias in node.names
                    if alias.name not in public_names
                ]
                continue
            if isinstance(node, ast.ImportFrom):
                modules = [node.module or ""] if node.level == 0 else [f"{package}.cli"]
            elif isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            else:
                continue
            for module in modules:
                parts = module.split(".")
                if parts[0] == package and len(parts) > 1:
                    if parts[1] not in PUBLIC_MODULES | {"cli"}:
                        offences.append(f"{where} imports {module}")
    return offences


def test_the_cli_imports_only_the_public_api() -> None:
    import provider_store

    assert cli_import_offences(PACKAGE, set(provider_store.__all__)) == []
    table = allow_list(ARCHITECTURE.read_text(encoding="utf-8"))
    assert table["cli"] == PUBLIC_MODULES | {"provider_store"}


def test_the_cli_check_fails_on_a_private_module_or_name(tmp_path: Path) -> None:
    root = tmp_path / "provider_store"
    (root / "cli").mkdir(parents=True)
    (root / "cli" / "app.py").write_text(
        "from provider_store import ProviderStore, CatalogRows\n"
        "from provider_store.catalog import migrate\n"
        "from provider_store.rules import EXIT_OK\n"
        "from provider_store.cli.text import visible\n"
        "import provider_store.history.feed\n"
        "store.rows.write_cache('a', [])\n",
        encoding="utf-8",
    )
    assert sorted(cli_import_offences(root, {"ProviderStore"})) == [
        "cli/app.py imports provider_store.CatalogRows",
        "cli/app.py imports provider_store.catalog",
        "cli/app.py imports provider_store.history.feed",
        "cli/app.py:6 reaches the store's rows",
    ]


# A CLI module may share its base name with the library module behind its command.
CLI_COMMAND_MODULES = {"db"}


def test_no_two_modules_share_a_base_name_for_different_jobs() -> None:
    by_name: dict[str, list[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name in ("__init__.py", "__main__.py") or "_migrations" in path.parts:
            continue
        by_name.setdefault(path.stem, []).append(str(path.relative_to(PACKAGE)))
    shared = {
        name: paths
        for name, paths in by_name.items()
        if len(paths) > 1
        and not (
            name in CLI_COMMAND_MODULES
            and len(paths) == 2
            and any(p.startswith("cli/") for p in paths)
        )
    }
    assert shared == {}


def test_every_subpackage_says_what_lives_there_and_what_it_may_import() -> None:
    for init in sorted(PACKAGE.glob("*/__init__.py")):
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8"))) or ""
        assert "Lives here" in doc, init
        assert "May import" in doc, init


LONG_MODULE = 420


def test_a_module_over_about_400_lines_says_why_at_its_top() -> None:
    unexplained = []
    for path in sorted(PACKAGE.rglob("*.py")):
        lines = path.read_text(encoding="utf-8").count("\n")
        doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
        if lines > LONG_MODULE and "Why this module is long:" not in doc:
            unexplained.append(f"{path.relative_to(PACKAGE)} ({lines} lines)")
    assert unexplained == []


def environment_reads_on_import(source: str) -> list[int]:
    """Lines of ``source`` that read the environment (``os.environ``, ``os.getenv``) when the
    module is imported: at its top level or in a class body, not inside a function."""
    found: list[int] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            return
        if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv", "environb"):
            found.append(node.lineno)
        if isinstance(node, ast.Name) and node.id in ("environ", "getenv"):
            found.append(node.lineno)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(source))
    return sorted(set(found))


def test_no_module_reads_the_environment_when_it_is_imported() -> None:
    # What a module does with the environment happens when it is called: a program (and the
    # tests' process zygote, which imports the package ahead) may set it after the import.
    offences = [
        f"{path.relative_to(PACKAGE.parent)}:{line}"
        for path in sorted(PACKAGE.rglob("*.py"))
        for line in environment_reads_on_import(path.read_text(encoding="utf-8"))
    ]
    assert offences == []


def test_the_environment_check_sees_a_read_at_import_and_spares_one_in_a_function() -> None:
    source = (
        "import os\n"
        "URL = os.environ.get('X')\n"
        "class C:\n"
        "    KEY = os.getenv('Y')\n"
        "def f():\n"
        "    return os.environ['Z']\n"
        "g = lambda: os.getenv('W')\n"
    )
    assert environment_reads_on_import(source) == [2, 4]
