"""Releases: the version comes from the Git tag, a fresh clone installs with it, a tree
without Git metadata installs under the fallback version, and the release workflow
builds, checks, tries and publishes what it tagged."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from pathlib import Path

import pytest
import yaml
from support.paths import REPO

from reconciler.base.releases import is_release

pytestmark = pytest.mark.slow

PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
CHANGELOG = REPO / "CHANGELOG.md"


def _git(*args: str, cwd: Path = REPO) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, check=True, timeout=120
    ).stdout.strip()


@pytest.fixture(scope="module")
def clone(tmp_path_factory) -> Path:
    """A fresh `git clone` of this repository (its committed HEAD)."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    try:
        _git("rev-parse", "HEAD")
    except subprocess.CalledProcessError:
        pytest.skip("not a Git checkout")
    target = tmp_path_factory.mktemp("release") / "clone"
    _git("clone", "--quiet", "--no-hardlinks", str(REPO), str(target))
    return target


def _build(source: Path, out: Path, *, sdist: bool = False) -> Path:
    """Build a wheel (or the sdist) of ``source`` with the installed backend, as pip would."""
    out.mkdir(parents=True, exist_ok=True)
    if sdist:
        command = [sys.executable, "-m", "hatchling", "build", "-t", "sdist", "-d", str(out)]
        subprocess.run(command, cwd=source, capture_output=True, check=True, timeout=300)
        [built] = out.glob("*.tar.gz")
    else:
        command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation"]
        subprocess.run(
            [*command, "--quiet", "-w", str(out), str(source)],
            capture_output=True,
            check=True,
            timeout=300,
        )
        [built] = out.glob("*.whl")
    return built


def _wheel_version(wheel: Path) -> str:
    with zipfile.ZipFile(wheel) as archive:
        [metadata] = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        return re.search(r"^Version: (\S+)$", archive.read(metadata).decode(), re.M).group(1)


def _reconcile_version(wheel: Path, site: Path) -> str:
    """`reconcile --version` of ``wheel`` installed on its own (the dependencies are ours)."""
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(site),
         str(wheel)],
        capture_output=True,
        check=True,
        timeout=300,
    )  # fmt: skip
    shown = subprocess.run(
        [sys.executable, "-m", "reconciler", "--version"],
        env={**os.environ, "PYTHONPATH": str(site)},
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    return re.fullmatch(r"reconcile, version (\S+)\n", shown).group(1)


def test_the_version_comes_from_the_git_tag():
    assert "version" in PYPROJECT["project"]["dynamic"] and "version" not in PYPROJECT["project"]
    assert PYPROJECT["tool"]["hatch"]["version"]["source"] == "vcs"
    assert "hatch-vcs>=0.4" in PYPROJECT["build-system"]["requires"]
    # The fallback is no release: a tree without Git metadata is never taken for one.
    assert not is_release(PYPROJECT["tool"]["hatch"]["version"]["fallback-version"])


def test_a_fresh_clone_installs_under_the_version_of_its_commit(clone, tmp_path):
    head = _git("rev-parse", "HEAD", cwd=clone)
    tags = _git("tag", "--points-at", "HEAD", "--list", "v[0-9]*", cwd=clone).split()
    wheel = _build(clone, tmp_path / "wheel")
    version = _wheel_version(wheel)
    if tags:
        assert f"v{version}" in tags
    else:
        # A commit after the last tag (or before the first): a development build that
        # names its commit, and a clean one (no uncommitted changes in a clone).
        built_from = re.fullmatch(r"\d+(\.\d+)*\.dev\d+\+g([0-9a-f]{7,40})", version)
        assert built_from, version
        assert head.startswith(built_from.group(2))
    assert _reconcile_version(wheel, tmp_path / "site") == version


def test_a_tree_without_git_metadata_installs_under_the_fallback_version(clone, tmp_path):
    tree = tmp_path / "tree"
    shutil.copytree(clone, tree, ignore=shutil.ignore_patterns(".git"))
    wheel = _build(tree, tmp_path / "wheel")
    fallback = PYPROJECT["tool"]["hatch"]["version"]["fallback-version"]
    assert _wheel_version(wheel) == fallback
    assert _reconcile_version(wheel, tmp_path / "site") == fallback


def test_the_sdist_builds_the_same_wheel_with_everything_it_needs(clone, tmp_path):
    sdist = _build(clone, tmp_path / "dist", sdist=True)
    with tarfile.open(sdist) as archive:
        names = archive.getnames()
        [pkg_info] = [n for n in names if n.count("/") == 1 and n.endswith("/PKG-INFO")]
        sdist_version = re.search(
            r"^Version: (\S+)$", archive.extractfile(pkg_info).read().decode(), re.M
        ).group(1)
        archive.extractall(tmp_path / "unpacked", filter="data")
    assert any(n.endswith("/CHANGELOG.md") for n in names)
    [unpacked] = (tmp_path / "unpacked").iterdir()
    # The wheel from the sdist (as the release workflow builds it): no Git there any more.
    wheel = _build(unpacked, tmp_path / "wheel")
    assert _wheel_version(wheel) == sdist_version
    with zipfile.ZipFile(wheel) as archive:
        shipped = set(archive.namelist())
    for needed in (
        "reconciler/templates/qbxml/InvoiceAddRq.xml.j2",
        "reconciler/example/config/billing.yaml",
        "reconciler/data/charges-example.json",
        "reconciler/schemas/plan.schema.json",
        # What `reconcile init --ci` writes, from an installed release.
        "reconciler/deploy/templates/github/plan.yml.j2",
        "reconciler/deploy/templates/gitlab/mr-note.py.j2",
    ):
        assert needed in shipped, needed


def _release_workflow() -> dict:
    document = yaml.safe_load((REPO / ".github/workflows/release.yml").read_text("utf-8"))
    document["on"] = document.pop(True, document.get("on"))  # YAML 1.1 reads `on` as true
    return document


def test_the_release_workflow_builds_checks_tries_and_publishes_what_was_tagged():
    workflow = _release_workflow()
    assert workflow["on"] == {"push": {"tags": ["v*"]}}
    assert workflow["permissions"] == {"contents": "read"}
    build, publish = workflow["jobs"]["build"], workflow["jobs"]["publish"]
    checkout = build["steps"][0]
    # hatch-vcs reads the version from the tag: the whole history, with its tags.
    assert checkout["uses"].startswith("actions/checkout@")
    assert checkout["with"]["fetch-depth"] == 0
    script = "\n".join(step.get("run", "") for step in build["steps"])
    for stage in (
        "CHANGELOG.md",
        "python -m build",
        "twine check --strict dist/*",
        'python -m venv "$RUNNER_TEMP/try"',
        "pip install --quiet dist/*.whl",
        'test "$shown" = "reconcile, version ${TAG#v}"',
        '"$RUNNER_TEMP/try/bin/reconcile" demo',
    ):
        assert stage in script, stage
    # In that order: nothing is published that was not built, checked and tried.
    positions = [script.index(s) for s in ("python -m build", "twine check", 'reconcile" demo')]
    assert positions == sorted(positions)
    uploaded = build["steps"][-1]
    assert uploaded["uses"].startswith("actions/upload-artifact@")
    # Trusted publishing: an OpenID Connect token for this job only, in an environment.
    assert publish["needs"] == "build"
    assert publish["permissions"] == {"id-token": "write"}
    assert publish["environment"]["name"] == "pypi"
    assert publish["steps"][0]["uses"].startswith("actions/download-artifact@")
    assert publish["steps"][-1]["uses"].startswith("pypa/gh-action-pypi-publish@v1.")
    assert "with" not in publish["steps"][-1], "no password: trusted publishing"


def test_the_changelog_says_how_to_release_and_starts_with_what_is_unreleased():
    text = CHANGELOG.read_text(encoding="utf-8")
    headings = re.findall(r"^## \[([^\]]+)\]", text, re.M)
    assert headings and headings[0] == "Unreleased"
    for version in headings[1:]:
        assert is_release(version), version
    # The release workflow's check finds an entry as the release steps write it.
    assert "## [1.2.0] - 2027-01-15" in text and "tag" in text
