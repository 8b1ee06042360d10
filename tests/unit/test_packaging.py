"""A plain ``pip install .`` (no ``-e``) gives a worker that finds its templates.

The templates are package data of the ``templates`` package, found with
:mod:`importlib.resources`; a path relative to the source tree would work in a
checkout and fail in the Docker image (``deploy/Dockerfile`` runs
``pip install .``). The test installs a copy of the project into a temporary
folder and renders a notice, the web pages, the sign-in page and the dashboard
from there, in an isolated interpreter (``-I``) started elsewhere, with the
source tree on no path.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests import examples

ROOT = Path(__file__).resolve().parents[2]
PROJECT = ("pyproject.toml", "README.md", "streams", "notifications", "templates")

PROBE = """
import json, sys
target, source = sys.argv[1], sys.argv[2]
# the installed copy first; the checkout itself never (the venv's packages stay)
sys.path[:] = [target] + [p for p in sys.path if p and p.rstrip('/') != source]
import notifications, streams, templates
from notifications.dashboard import DashboardRenderer
from notifications.render import NoticeContext, NoticeRenderer
from notifications.signin_page import SignInPage, SignInView
from notifications.template_folder import template_folder
from notifications.web_pages import WebPages
from streams.schemas import SCHEMA_DIR

for module in (notifications, streams, templates):
    assert module.__file__.startswith(target), module.__file__
assert str(template_folder()).startswith(target), template_folder()
assert any(SCHEMA_DIR.glob("*.json")), SCHEMA_DIR
change = json.loads(sys.argv[3])
notice = NoticeRenderer().render(
    NoticeContext("purpose:ai-training:v1", "purpose", change, "fr", "https://p.example/o/T")
)
pages = WebPages()
DashboardRenderer()
print(json.dumps({
    "subject": notice.subject,
    "text": notice.text,
    "html": notice.html,
    "not_found": pages.not_found("de").html,
    "signin": SignInPage().render(SignInView(), minutes=15),
    "modules": sorted(m.__file__ or "" for m in sys.modules.values()
                      if getattr(m, "__file__", None)),
}))
"""


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project, built and installed by pip into a folder of its own."""
    base = tmp_path_factory.mktemp("packaging")
    source = base / "source"  # a copy: pip's build writes build/ beside the sources
    source.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", "build")
    for name in PROJECT:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, source / name, ignore=ignore)
        else:
            shutil.copy2(path, source / name)
    target = base / "site"
    result = subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target),
         str(source)],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    return target


def test_an_installed_worker_renders_from_its_package_data(installed: Path, tmp_path: Path) -> None:
    assert (installed / "templates" / "email" / "notice_purpose.html.j2").is_file()
    assert (installed / "templates" / "web" / "page.css").is_file()
    assert (installed / "templates" / "email" / "i18n" / "fr.json").is_file()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = subprocess.run(
        [sys.executable, "-I", "-c", PROBE, str(installed), str(ROOT),
         json.dumps(examples.purpose_declared())],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=elsewhere,
        check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert "Entraînement de nos modèles d'IA" in out["text"]
    assert "https://p.example/o/T" in out["html"]
    assert out["subject"]
    assert "<html" in out["not_found"]
    assert "<html" in out["signin"]
    venv = Path(sys.prefix).resolve()
    from_source = [
        path
        for path in out["modules"]
        if Path(path).resolve().is_relative_to(ROOT)
        and not Path(path).resolve().is_relative_to(venv)
    ]
    assert from_source == []
