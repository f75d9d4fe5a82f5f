"""Which reconciler versions are releases, and how to install one like another.

Versions come from Git tags (hatch-vcs): a tag ``v1.2.0`` builds ``1.2.0``, a
commit after it ``1.2.1.dev3+g1a2b3c4``, a tree without Git metadata
``0.1.0.dev0``. Only a release can be installed by version from the package
index, or named in a configuration repository's CI files.
"""

from __future__ import annotations

import re

# PEP 440 releases as this project publishes them: X.Y.Z, a pre-release (rc1) or a
# post-release; never a development (.devN) or local (+...) version.
_RELEASE = re.compile(r"\d+(\.\d+)*((a|b|rc)\d+)?(\.post\d+)?")
# The commit a development build was made from (setuptools-scm's local label).
_COMMIT = re.compile(r"\+(?:.*\.)?g([0-9a-f]{7,40})(?:\.|$)")


def is_release(version: str) -> bool:
    """Whether ``version`` is one a release has: installable as ``reconciler==VERSION``."""
    return _RELEASE.fullmatch(version) is not None


def install_hint(version: str) -> str:
    """How to install reconciler ``version`` here, in words for a hint."""
    if is_release(version):
        return f'pip install "reconciler=={version}"'
    commit = _COMMIT.search(version)
    made_from = f" (commit {commit.group(1)})" if commit else ""
    return (
        f"{version} is a development build{made_from}, not a release: install reconciler "
        "from that same source here, or run a release on both sides"
    )
