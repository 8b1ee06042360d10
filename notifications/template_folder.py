"""Where the templates are: the ``templates`` package, found by :mod:`importlib.resources`.

Not a path relative to this file: after ``pip install .`` (no ``-e``) the
templates live in ``site-packages/templates/``, not beside the source tree.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

PACKAGE = "templates"


def template_folder() -> Path:
    """The folder of the installed ``templates`` package (``email/``, ``web/``)."""
    found = files(PACKAGE)
    if not isinstance(found, Path):  # e.g. a zip import: Jinja2 needs a folder
        raise RuntimeError(f"the {PACKAGE} package is not a folder on disk: {found}")
    return found
