"""Dependencies point one way: pipelines → sources and destination → pm_runtime.

Read from the source text with `ast` (every import, at module level or inside a function).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("asana_source", "trello_source")
PRODUCT = ("asana_source", "trello_source", "docspace_destination", "pm_runtime", "pipelines")


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


def test_the_destination_names_no_source_in_its_code() -> None:
    """Comments and docstrings may give examples; code and SQL name no source."""
    found = []
    for path in sorted((ROOT / "docspace_destination").rglob("*")):
        if path.suffix not in (".py", ".sql"):
            continue
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
        if re.search(r"(?i)asana|trello", haystack):
            found.append(str(path.relative_to(ROOT)))
    assert found == []


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
