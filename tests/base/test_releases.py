"""Which versions are releases: what `init --ci` may pin and `pip install reconciler==` finds."""

from __future__ import annotations

import pytest

from reconciler.base.releases import install_hint, is_release


@pytest.mark.parametrize("version", ["0.1.0", "1.12.3", "2.0.0rc1", "1.0.0b2", "1.0.0.post1"])
def test_releases(version):
    assert is_release(version)
    assert install_hint(version) == f'pip install "reconciler=={version}"'


@pytest.mark.parametrize(
    ("version", "commit"),
    [
        ("0.1.0.dev176+g48000a4cb", "48000a4cb"),  # a commit after no tag or after a tag
        ("0.2.1.dev3+g1a2b3c4.d20261208", "1a2b3c4"),  # ... with uncommitted changes
        ("0.1.0.dev0", None),  # a tree without Git metadata
        ("0.0.0+source", None),  # a source tree never installed
        ("1.0.0+local", None),
    ],
)
def test_development_builds_are_not_releases(version, commit):
    assert not is_release(version)
    hint = install_hint(version)
    assert "reconciler==" not in hint and "not a release" in hint
    assert (f"(commit {commit})" in hint) is (commit is not None)
