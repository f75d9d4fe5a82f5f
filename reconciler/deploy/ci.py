"""The CI files of a configuration repository: GitHub's workflows or GitLab's pipeline.

A configuration repository is an MSP's own, holding its billing YAML and nothing
of this product. Its CI installs one reconciler release, the server's: GitHub's
workflows through this repository's action (``uses: OWNER/reconciler@vX.Y.Z``),
GitLab's pipeline with pip. This repository's own workflows are the same files
rendered for the checkout (:meth:`Pin.checkout`), so that every commit tests the
action as configuration repositories use it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from reconciler.base.errors import UserError

# Where the action lives: `uses: ACTION_REPOSITORY@vX.Y.Z`.
ACTION_REPOSITORY = "reconciler-dev/reconciler"
CI_SYSTEMS = ("github", "gitlab")
TEMPLATES = Path(__file__).resolve().parent / "templates"
# What the files may say of the configuration directory without quoting it: in
# YAML, in a glob of paths, on a shell's command line.
_PLAIN_PATH = re.compile(r"[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*")


@dataclass(frozen=True)
class Pin:
    """Which reconciler the CI files install, and the action that does it."""

    uses: str  # the `uses:` of the action's steps
    install: str  # the action's input that says what to install
    version: str | None  # the release pinned; None for this repository's checkout

    @classmethod
    def release(cls, version: str, repository: str = ACTION_REPOSITORY) -> Pin:
        """A release, by the action of the same tag."""
        return cls(f"{repository}@v{version}", f'version: "{version}"', version)

    @classmethod
    def checkout(cls) -> Pin:
        """This repository's commit: its own action, and reconciler installed from it."""
        return cls("./", "source: .", None)


@dataclass(frozen=True)
class CiFile:
    """A file to write, where it goes in the repository."""

    path: PurePosixPath  # from the repository's root
    text: str


def ci_files(
    system: str, *, config: PurePosixPath, pin: Pin, sherweb_env: tuple[str, ...]
) -> list[CiFile]:
    """The CI files of ``system`` (github or gitlab) for the configuration in ``config``
    (from the repository's root), installing ``pin``, with the Sherweb credentials in
    the environment variables ``sherweb_env`` (as billing.yaml names them)."""
    text = config.as_posix()
    if not _PLAIN_PATH.fullmatch(text) or ".." in config.parts:
        raise UserError(
            f"{text}: the CI files name the configuration directory as it is, so its "
            "path in the repository may hold only letters, digits, '.', '_', '-' and '/'"
        )
    values = {
        "config": text,
        # What globs of paths start with: the configuration may be at the root itself.
        "config_prefix": "" if text == "." else f"{text}/",
        "pin": pin,
        "sherweb_env": sherweb_env,
    }
    if system == "github":
        names = {
            ".github/workflows/plan.yml": "github/plan.yml.j2",
            ".github/workflows/apply.yml": "github/apply.yml.j2",
        }
    elif system == "gitlab":
        if pin.version is None:
            raise ValueError("GitLab's pipeline installs a release")
        names = {
            ".gitlab-ci.yml": "gitlab/gitlab-ci.yml.j2",
            "ci/mr-note.py": "gitlab/mr-note.py.j2",
        }
    else:
        raise ValueError(f"unknown CI system {system!r}")
    return [
        CiFile(PurePosixPath(path), _environment().get_template(name).render(values))
        for path, name in names.items()
    ]


def _environment() -> Environment:
    # GitHub's own `${{ }}` stays as it is: the templates' markers are [[ ]] and [% %].
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        variable_start_string="[[",
        variable_end_string="]]",
        block_start_string="[%",
        block_end_string="%]",
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,  # noqa: S701 (YAML and Python, not HTML: nothing to escape)
    )
