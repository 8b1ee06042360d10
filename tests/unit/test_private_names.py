"""Only streams/runtime/ touches Faust's and aiokafka's internals.

An AST scan of ``streams/`` and ``notifications/`` (outside ``streams/runtime/``)
for what would tie a module to upstream code that may change in any release:

- importing a private name (``from faust.x import _y``, ``from aiokafka import _y``,
  a module path with a private part such as ``faust._x``);
- in a module that imports faust, mode or aiokafka, reading or writing a private
  attribute (``obj._x``) of anything but ``self`` or ``cls``: whatever it is,
  the object likely comes from them;
- anywhere, naming or overriding one of the upstream internals the workarounds
  use (``_new_transport``, ``_db_for_partition``, ``_ensure_producer``...).

What streams/runtime/ relies on is checked by tests/unit/test_runtime_canary.py.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
UPSTREAM = frozenset({"faust", "aiokafka", "mode"})
#: internals that only streams/runtime/ may name, whatever object they are reached on
KNOWN_INTERNALS = frozenset(
    {
        "_new_transport",
        "_new_producer_transport",
        "_new_consumer_thread",
        "_ensure_consumer",
        "_ensure_producer",
        "_db_for_partition",
        "_add_gap",
        "_set_key",
    }
)
#: ``obj._x`` of our own objects in modules that import upstream (none needed today)
OWN_PRIVATE_ATTRIBUTES: frozenset[tuple[str, str]] = frozenset()


def private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def upstream(module: str | None) -> bool:
    return (module or "").split(".")[0] in UPSTREAM


def violations(source: str, path: str = "<source>") -> list[str]:
    """What in ``source`` reaches into Faust, mode or aiokafka internals."""
    tree = ast.parse(source)
    found: list[str] = []
    imports_upstream = False
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if upstream(alias.name):
                    imports_upstream = True
                    if any(private(part) for part in alias.name.split(".")):
                        found.append(f"{path}:{node.lineno}: import {alias.name}")
        elif isinstance(node, ast.ImportFrom) and upstream(node.module):
            imports_upstream = True
            module = node.module or ""
            if any(private(part) for part in module.split(".")):
                found.append(f"{path}:{node.lineno}: from {module} import ...")
            for alias in node.names:
                if private(alias.name):
                    found.append(f"{path}:{node.lineno}: from {module} import {alias.name}")
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and private(node.attr):
            base = node.value.id if isinstance(node.value, ast.Name) else None
            if (node.attr in KNOWN_INTERNALS and base not in {"self", "cls"}) or (
                imports_upstream
                and base not in {"self", "cls"}
                and (path, node.attr) not in OWN_PRIVATE_ATTRIBUTES
            ):
                found.append(f"{path}:{node.lineno}: .{node.attr}")
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and (
            node.name in KNOWN_INTERNALS
        ):
            found.append(f"{path}:{node.lineno}: def {node.name} (overrides an internal)")
        elif isinstance(node, ast.Constant) and node.value in KNOWN_INTERNALS:
            found.append(f"{path}:{node.lineno}: {node.value!r} (getattr by name)")
    return found


def scanned() -> list[Path]:
    runtime = ROOT / "streams" / "runtime"
    files = sorted((ROOT / "streams").rglob("*.py")) + sorted(
        (ROOT / "notifications").rglob("*.py")
    )
    return [f for f in files if runtime not in f.parents]


def test_no_module_outside_runtime_touches_faust_or_aiokafka_internals() -> None:
    files = scanned()
    assert len(files) > 50 and not any("runtime" in f.parts for f in files)
    found = [v for f in files for v in violations(f.read_text(), str(f.relative_to(ROOT)))]
    assert not found, "move these into streams/runtime/ (with the canary):\n" + "\n".join(found)


def test_the_runtime_package_is_where_the_internals_are() -> None:
    runtime = sorted((ROOT / "streams" / "runtime").glob("*.py"))
    found = [v for f in runtime for v in violations(f.read_text(), f.name)]
    # the scan does see them there: it is not blind
    assert any("_ensure_producer" in v for v in found)
    assert any("_db_for_partition" in v for v in found)
    assert any("def _new_consumer_thread" in v for v in found)


@pytest.mark.parametrize(
    "source",
    [
        "from faust.transport.drivers.aiokafka import _x",
        "from aiokafka import _private",
        "import faust._internal",
        "from aiokafka.util import helper\ndef f(c): return c._fetcher",
        "import faust\ndef f(app): return app.conf._x",
        "def f(app): return app.producer._ensure_producer()",
        "class A:\n    def _new_transport(self): ...",
        "def f(store): return getattr(store, '_db_for_partition')",
    ],
)
def test_the_scan_catches(source: str) -> None:
    assert violations(source)


@pytest.mark.parametrize(
    "source",
    [
        "import faust\nclass A:\n    def f(self): return self._x",
        "from faust import App\ndef _producer(): ...",  # our own private names
        "def f(thing): return thing._mine",  # no upstream import, not a known internal
        "import aiokafka\nx = aiokafka.__version__",
    ],
)
def test_the_scan_lets_pass(source: str) -> None:
    assert not violations(source)
