"""Dependencies point one way: pipelines → sources and destination → pm_runtime.

Read from the source text with `ast` (every import, at module level or inside a function).
A source is known by its `SourceSpec` only: the registry (`pm_runtime.source_spec`) finds
every `<name>_source` package, and no module outside a source package names one, but for the
per-source entry scripts `pipelines/<name>_to_docspace.py`.
"""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest

from pm_runtime.source_spec import SourceSpec, missing_fields, source_names, spec_for

ROOT = Path(__file__).resolve().parents[1]
SOURCES = tuple(f"{name}_source" for name in source_names())
PRODUCT = (*SOURCES, "docspace_destination", "pm_runtime", "pipelines")
SOURCE_NAME = re.compile(r"(?i)asana|trello")


def imports(package: str) -> dict[str, set[str]]:
    """{file: top-level packages it imports}."""
    out: dict[str, set[str]] = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names.add(node.module.split(".")[0])
        out[str(path.relative_to(ROOT))] = names
    return out


def test_the_destination_imports_no_source_package() -> None:
    offending = {f: n & set(SOURCES) for f, n in imports("docspace_destination").items()}
    assert {f: n for f, n in offending.items() if n} == {}


def names_a_source(path: Path) -> bool:
    """Code and SQL name a source; comments and docstrings may give examples."""
    text = path.read_text()
    if path.suffix == ".py":
        tree = ast.parse(text)
        strings = [
            n.value
            for n in ast.walk(tree)
            if isinstance(n, ast.Constant) and isinstance(n.value, str)
        ]
        docstrings = {
            ast.get_docstring(n, clean=False)
            for n in ast.walk(tree)
            if isinstance(n, ast.Module | ast.ClassDef | ast.FunctionDef)
        }
        code = [s for s in strings if s not in docstrings]
        names = [n.id for n in ast.walk(tree) if isinstance(n, ast.Name)]
        haystack = " ".join(code + names)
    else:
        haystack = "\n".join(line.split("--", 1)[0] for line in text.splitlines())
    return bool(SOURCE_NAME.search(haystack))


def files_naming_a_source(package: str, allowed: tuple[str, ...] = ()) -> list[str]:
    found = []
    for path in sorted((ROOT / package).rglob("*")):
        if path.suffix in (".py", ".sql") and path.name not in allowed and names_a_source(path):
            found.append(str(path.relative_to(ROOT)))
    return found


def test_the_destination_names_no_source_in_its_code() -> None:
    assert files_naming_a_source("docspace_destination") == []


def test_the_command_line_names_no_source_but_in_its_entry_scripts() -> None:
    """A source's title, nouns, quota, dlt source and change detector come from its spec."""
    entry_scripts = tuple(f"{name}_to_docspace.py" for name in source_names())
    assert files_naming_a_source("pipelines", allowed=entry_scripts) == []


def test_pm_runtime_names_no_source_in_its_code() -> None:
    assert files_naming_a_source("pm_runtime") == []


def test_only_sources_import_source_packages() -> None:
    for package in ("docspace_destination", "pm_runtime", "pipelines"):
        for file, names in imports(package).items():
            assert not names & set(SOURCES), file


def test_the_destination_imports_no_pipelines() -> None:
    for file, names in imports("docspace_destination").items():
        assert "pipelines" not in names, file


def test_the_registry_finds_both_sources() -> None:
    assert {"asana", "trello"} <= set(source_names())


@pytest.mark.parametrize("name", source_names())
def test_every_source_package_states_a_complete_spec(name: str) -> None:
    package = importlib.import_module(f"{name}_source")
    spec = spec_for(name)
    assert isinstance(spec, SourceSpec) and package.DOCSPACE_SPEC is spec
    assert spec.name == name and spec.dataset
    assert missing_fields(spec) == []
    queries = [spec.desired_tree, *spec.people, *([spec.links] if spec.links else [])]
    assert all(q.path.is_file() for q in queries)
    assert spec.nouns.room and spec.nouns.folder and spec.nouns.rooms_table
    assert spec.quota is not None and spec.quota.requests > 0 and spec.quota.window_seconds > 0


def test_sources_and_pm_runtime_import_neither_the_destination_nor_the_pipelines() -> None:
    for package in (*SOURCES, "pm_runtime"):
        for file, names in imports(package).items():
            assert not names & {"docspace_destination", "pipelines"}, file


def test_sources_do_not_import_each_other() -> None:
    for package in SOURCES:
        others = set(SOURCES) - {package}
        for file, names in imports(package).items():
            assert not names & others, file


def test_the_product_never_imports_sandbox() -> None:
    """`--sandbox` hands over to `python -m sandbox demo` in a child process instead."""
    users = {
        file
        for package in PRODUCT
        for file, names in imports(package).items()
        if "sandbox" in names
    }
    assert users == set()
