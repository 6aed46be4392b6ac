"""The quick loop stays quick: every test that starts a process is marked ``slow``.

``pytest -m "not slow"`` is the developer loop (README, Development; issue 14 point 5). A test
that starts ``ketlit`` as a user would, spawns a helper process, or kills one takes seconds and
belongs to the full run, so it must carry ``@pytest.mark.slow`` (on itself, its class, or its
module's ``pytestmark``). This reads the test sources (no test is run) and names any test that
starts a process, directly, through a helper of its own module, or through a fixture that does,
without the marker.
"""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent

# What starting a process looks like in this suite, as names in the code (not in strings):
# tests/helpers.py's run_ketlit and ketlit_executable start the CLI; the rest are the standard
# library's ways (os.kill and os.fork as attributes of os).
PROCESS_NAMES = frozenset({"run_ketlit", "ketlit_executable", "subprocess", "Popen",
                           "multiprocessing"})
OS_CALLS = frozenset({"kill", "fork", "killpg"})

Function = ast.FunctionDef | ast.AsyncFunctionDef


def _slow(decorators: list[ast.expr]) -> bool:
    return any("mark.slow" in ast.unparse(d) for d in decorators)


def _is_fixture(fn: Function) -> bool:
    return any("fixture" in ast.unparse(d) for d in fn.decorator_list)


def _module_slow(tree: ast.Module) -> bool:
    return any(isinstance(n, ast.Assign)
               and any(isinstance(t, ast.Name) and t.id == "pytestmark" for t in n.targets)
               and "mark.slow" in ast.unparse(n.value) for n in tree.body)


def _names_a_process(fn: Function) -> bool:
    for node in ast.walk(fn):
        if isinstance(node, ast.Name) and node.id in PROCESS_NAMES:
            return True
        if (isinstance(node, ast.Attribute) and node.attr in OS_CALLS
                and isinstance(node.value, ast.Name) and node.value.id == "os"):
            return True
        if isinstance(node, ast.Import | ast.ImportFrom):
            names = {a.name.split(".")[0] for a in node.names}
            if isinstance(node, ast.ImportFrom) and node.module:
                names.add(node.module.split(".")[0])
            if names & PROCESS_NAMES:
                return True
    return False


def _starts_process(fn: Function, helpers: dict[str, Function], seen: set[str]) -> bool:
    """``fn`` starts a process itself or calls a function of its module that does."""
    if _names_a_process(fn):
        return True
    for node in ast.walk(fn):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                and node.func.id in helpers and node.func.id not in seen):
            seen.add(node.func.id)
            if _starts_process(helpers[node.func.id], helpers, seen):
                return True
    return False


def _top_functions(tree: ast.Module) -> dict[str, Function]:
    return {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}


def _process_fixtures(root: Path) -> set[str]:
    """Fixtures of the conftest files that start a process (``ketlit serve`` ...)."""
    names: set[str] = set()
    for conftest in root.rglob("conftest.py"):
        tree = ast.parse(conftest.read_text(encoding="utf-8"))
        helpers = _top_functions(tree)
        names |= {name for name, fn in helpers.items()
                  if _is_fixture(fn) and _starts_process(fn, helpers, set())}
    return names


def unmarked_process_tests(root: Path) -> list[str]:
    """``path::test`` of each test under ``root`` that starts a process and is not slow."""
    shared = _process_fixtures(root)
    found: list[str] = []
    for path in sorted(root.rglob("test_*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        if _module_slow(tree):
            continue
        helpers = _top_functions(tree)
        fixtures = shared | {name for name, fn in helpers.items()
                             if _is_fixture(fn) and _starts_process(fn, helpers, set())}
        tests: list[Function] = [fn for fn in helpers.values()]
        for cls in tree.body:
            if isinstance(cls, ast.ClassDef) and not _slow(cls.decorator_list):
                tests += [n for n in cls.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
        for fn in tests:
            if not fn.name.startswith("test_") or _slow(fn.decorator_list):
                continue
            uses = {a.arg for a in fn.args.args} & fixtures
            if uses or _starts_process(fn, helpers, set()):
                found.append(f"{path.relative_to(root)}::{fn.name}")
    return found


def test_every_test_that_starts_a_process_is_marked_slow() -> None:
    unmarked = unmarked_process_tests(TESTS)
    assert not unmarked, ("these tests start a process but are not marked slow, so the quick "
                          f"loop (-m 'not slow') runs them: {unmarked}")


def test_the_check_finds_an_unmarked_process_test(tmp_path: Path) -> None:
    # The check itself: a CLI run, a helper that spawns, and a process-starting fixture are
    # found unless marked; a marked test, a slow module and a plain test are not.
    (tmp_path / "conftest.py").write_text(
        "import pytest, subprocess\n"
        "@pytest.fixture\n"
        "def served():\n    yield subprocess.Popen(['true'])\n", encoding="utf-8")
    (tmp_path / "test_a.py").write_text(
        "import pytest\n"
        "from tests.helpers import run_ketlit\n"
        "def _spawn():\n    import multiprocessing\n    multiprocessing.Process()\n"
        "def test_cli():\n    run_ketlit(['stats'])\n"
        "def test_helper():\n    _spawn()\n"
        "def test_fixture(served):\n    pass\n"
        "@pytest.mark.slow\ndef test_marked():\n    run_ketlit(['stats'])\n"
        "def test_plain():\n    assert 1\n", encoding="utf-8")
    (tmp_path / "test_b.py").write_text(
        "import pytest\npytestmark = [pytest.mark.slow]\n"
        "def test_cli():\n    run_ketlit(['stats'])\n", encoding="utf-8")
    assert unmarked_process_tests(tmp_path) == [
        "test_a.py::test_cli", "test_a.py::test_helper", "test_a.py::test_fixture"]
