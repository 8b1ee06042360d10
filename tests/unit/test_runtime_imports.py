"""The worker never imports the development tools (``streams.local``) nor aiosmtpd.

The local broker, the demo and its mail catcher live in ``streams.local``, and
aiosmtpd is a development extra: a worker installed without ``[dev]`` must
start. A fresh interpreter imports what ``preavis worker`` imports (the
command line, the worker command's own imports, ``streams.app`` and every
module of ``DOMAINS``), builds the app, and lists what ended up in
``sys.modules``.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import streams.cli

FORBIDDEN = ("streams.local", "aiosmtpd")

PROBE = """
import importlib, json, sys, tempfile
modules = json.loads(sys.argv[1])
import streams.cli
from streams import app as app_module
for name in [*modules, *app_module.DOMAINS]:
    importlib.import_module(name)
from streams.settings import Settings
settings = Settings(
    app_id="preavis-imports", store="memory://", data_dir=tempfile.mkdtemp(),
    topic_partitions=2, link_secret="unit-test-link-secret-0123456789",
)
app = app_module.create_app(settings)
app_module.changelog_specs(app)
print(json.dumps(sorted(sys.modules)))
"""


def worker_command_imports() -> list[str]:
    """The modules ``streams.cli._worker`` imports inside its body."""
    tree = ast.parse(Path(streams.cli.__file__).read_text(encoding="utf-8"))
    worker = next(
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef) and node.name == "_worker"
    )
    names: list[str] = []
    for node in ast.walk(worker):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
    return names


def test_the_worker_command_imports_something() -> None:
    # the probe below is only as good as this list
    assert "streams.app" in worker_command_imports()


def test_the_worker_never_imports_the_development_tools(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(worker_command_imports())],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(streams.cli.__file__).resolve().parents[1],
        check=False,
    )
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert "streams.app" in loaded
    offenders = [
        name for name in loaded if any(name == f or name.startswith(f + ".") for f in FORBIDDEN)
    ]
    assert offenders == []
