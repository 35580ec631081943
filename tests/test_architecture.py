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


# -- one HTTP policy (issue 19 §4) ---------------------------------------------------------

HTTP_POLICY = "pm_runtime/http_policy.py"
# Loops that wait without re-sending a request: polls of work under way and pacing. Each is
# here for a reason; anything else that waits in a loop is a retry loop, and belongs in
# `pm_runtime.http_policy.send_with_retries`.
WAITING_LOOPS_THAT_ARE_NOT_RETRIES = {
    "trello_source/client.py:RateLimiter.acquire": "pacing: waits for a send slot, sends nothing",
    "docspace_destination/fileops_api.py:FileOperationsApi.finish_operations": (
        "a poll of the portal's file operations until they finish; nothing is re-sent"
    ),
    "docspace_destination/template_jobs.py:TemplateJobs.wait": (
        "a poll of the room-from-template job's progress; the job is started once"
    ),
    "pm_runtime/staging_lock.py:wait_while_locked": "waits for another run's staging lock",
    "pm_runtime/sync_lock.py:_wait": "waits for another run's sync lock",
}


def product_files() -> list[Path]:
    return [p for package in PRODUCT for p in sorted((ROOT / package).rglob("*.py"))]


def waiting_loops(path: Path) -> list[str]:
    """`file:Class.function` of each loop whose body waits: calls anything named *sleep*,
    *backoff* or *back_off* (time.sleep, an injected `_sleep`, a client's own backoff)."""
    found: list[str] = []

    def visit(node: ast.AST, scope: list[str]) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                visit(child, [*scope, child.name])
                continue
            if isinstance(child, ast.For | ast.While) and any(
                isinstance(n, ast.Call) and _waits(n.func) for n in ast.walk(child)
            ):
                found.append(f"{path.relative_to(ROOT)}:{'.'.join(scope)}")
            visit(child, scope)

    visit(ast.parse(path.read_text()), [])
    return found


def _waits(func: ast.expr) -> bool:
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    return any(word in name.lower() for word in ("sleep", "backoff", "back_off"))


def test_no_module_but_the_http_policy_runs_a_retry_loop() -> None:
    loops = {loop for path in product_files() for loop in waiting_loops(path)}
    retry_loops = {
        loop
        for loop in loops
        if not loop.startswith(HTTP_POLICY) and loop not in WAITING_LOOPS_THAT_ARE_NOT_RETRIES
    }
    assert retry_loops == set()
    # the allow-list names loops that still exist (a stale entry would hide a new loop)
    assert set(WAITING_LOOPS_THAT_ARE_NOT_RETRIES) <= loops


def test_no_module_but_the_http_policy_builds_a_urllib3_retry() -> None:
    """The Asana SDK and the download sessions get theirs from `http_policy.urllib3_retry`."""
    users = set()
    for path in product_files():
        if str(path.relative_to(ROOT)) == HTTP_POLICY:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            named = (
                node.id
                if isinstance(node, ast.Name)
                else node.attr
                if isinstance(node, ast.Attribute)
                else None
            )
            imported = isinstance(node, ast.ImportFrom) and any(
                a.name == "Retry" for a in node.names
            )
            if named == "Retry" or imported:
                users.add(str(path.relative_to(ROOT)))
    assert users == set()


# configuration is declared in @configspec modules and resolved by dlt (issue 19 §1)
CONFIGSPEC_MODULES = {
    "docspace_destination/config.py",
    "pm_runtime/staging_config.py",
    "pm_runtime/settings_resolution.py",
    "asana_source/config.py",
    "trello_source/config.py",
    "pipelines/watch/settings.py",
}
HAND_READERS = re.compile(
    r"dlt\.(config|secrets)\.get\(|dlt\.(config|secrets)\[|\bconfig_value\(|\bsecret_value\("
    r"|os\.environ\.get\(|os\.getenv\(|os\.environ\["
)
# process switches, read from the environment before (or instead of) dlt's providers
ENVIRONMENT_SWITCHES = {
    "pm_runtime/dlt_state.py": "DLT_DATA_DIR is dlt's own process switch",
    "pm_runtime/lean_start.py": "PM_LEAN_START must be known before dlt is imported",
    "pm_runtime/load_phases.py": (
        "PM_LOAD_IN_PROCESS and the child's own switches (dlt's LOAD__WORKERS, PM_LOAD_TRACEBACK)"
        " are read while the child process is set up"
    ),
}


def _code_lines(path: Path) -> list[str]:
    """The lines of code, without comments and docstrings."""
    text = path.read_text()
    tree = ast.parse(text)
    doc_lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef) and ast.get_docstring(
            node
        ):
            first = node.body[0]
            doc_lines |= set(range(first.lineno, (first.end_lineno or first.lineno) + 1))
    return [
        line.split("#", 1)[0]
        for number, line in enumerate(text.splitlines(), start=1)
        if number not in doc_lines
    ]


def test_no_configuration_is_read_by_hand_outside_the_configspec_modules() -> None:
    found = []
    for package in ("docspace_destination", "pm_runtime", "pipelines", *SOURCES):
        for path in sorted((ROOT / package).rglob("*.py")):
            name = str(path.relative_to(ROOT))
            if name in CONFIGSPEC_MODULES or name in ENVIRONMENT_SWITCHES:
                continue
            found += [
                f"{name}: {line.strip()}" for line in _code_lines(path) if HAND_READERS.search(line)
            ]
    assert found == []


def test_the_environment_switches_allowed_are_still_read_so() -> None:
    """The allow-list stays honest: each module on it still reads its switch."""
    for name in ENVIRONMENT_SWITCHES:
        assert any(HAND_READERS.search(line) for line in _code_lines(ROOT / name)), name


def _module_imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return names


def test_the_engine_does_not_import_the_configuration() -> None:
    """Settings are made into engine types (`ApplySettings`, `MappingOptions`, `OptInSettings`)
    in `settings`; the plan, the apply and the kinds never read configuration."""
    composition = {"config.py", "settings.py", "sync.py", "__init__.py"}
    configuration = {"docspace_destination.config", "docspace_destination.settings"}
    offending = {
        path.name: _module_imports(path) & configuration
        for path in sorted((ROOT / "docspace_destination").glob("*.py"))
        if path.name not in composition
    }
    assert {f: n for f, n in offending.items() if n} == {}


def test_the_configspec_modules_know_nothing_above_them() -> None:
    """A configspec module imports dlt, `pm_runtime` and at most a leaf of its package."""
    allowed_local = {
        "docspace_destination.titles",
        "docspace_destination.limits",
        "docspace_destination.choices",
        "asana_source.settings",
        "trello_source.settings",
    }
    for name in CONFIGSPEC_MODULES:
        local = {
            m
            for m in _module_imports(ROOT / name)
            if m.split(".")[0] in PRODUCT and m.split(".")[0] != "pm_runtime"
        }
        assert local <= allowed_local, name
