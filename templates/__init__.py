"""preavis's Jinja2 templates and the texts of each language, as package data.

Not code: this file makes ``templates/`` a package, so that setuptools installs
its files (``pyproject.toml``: ``[tool.setuptools.package-data]``) and
:func:`notifications.template_folder.template_folder` finds them with
:mod:`importlib.resources`, in a source checkout as after ``pip install .``.
"""
