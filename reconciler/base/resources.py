"""Where the files that ship with the package are.

An installed wheel carries the qbXML templates and the example configuration
inside the package (see ``force-include`` in ``pyproject.toml``); a source
checkout keeps them at the top of the repository, next to the package.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parents[1]


def _shipped(inside: str, in_checkout: str) -> Path:
    packaged = PACKAGE_DIR / inside
    if packaged.is_dir():
        return packaged
    return PACKAGE_DIR.parent / in_checkout


def templates_dir() -> Path:
    """The directory that holds the Jinja qbXML templates (``*.xml.j2``)."""
    return _shipped("templates/qbxml", "templates/qbxml")


def example_config_dir() -> Path:
    """The example configuration that ``reconcile demo`` runs."""
    return _shipped("example/config", "config")


def schemas_dir() -> Path:
    """The JSON Schemas of the configuration files."""
    return PACKAGE_DIR / "schemas"


def data_dir() -> Path:
    """Example data that ships with the package (charges, a sample company)."""
    return PACKAGE_DIR / "data"
