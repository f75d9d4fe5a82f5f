"""``reconcile init``: a first configuration directory, copied from the example, and the
CI files of the configuration repository that holds it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path, PurePosixPath

import click

from reconciler import __version__
from reconciler.base.errors import UserError
from reconciler.base.files import write_text_atomically
from reconciler.base.jsonschemas import load_schema
from reconciler.base.releases import is_release
from reconciler.base.resources import example_config_dir
from reconciler.commands.options import DEFAULT_CONFIG_DIR
from reconciler.config.load import BILLING_FILE, CONFIG_FILES, load_billing, schema_names
from reconciler.deploy.ci import ACTION_REPOSITORY, CI_SYSTEMS, CiFile, Pin, ci_files

# Where the example files' first line points yaml-language-server.
SCHEMAS_DIR = ".schemas"


@click.command("init")
@click.argument(
    "directory",
    required=False,
    default=DEFAULT_CONFIG_DIR,
    type=click.Path(path_type=Path, file_okay=False),
)
@click.option(
    "--ci",
    "ci_system",
    type=click.Choice(CI_SYSTEMS),
    help="Also write the CI files of the repository that holds DIRECTORY: GitHub's plan and "
    "apply workflows, or GitLab's pipeline and its merge-request note script. A configuration "
    "already there is kept as it is.",
)
@click.option(
    "--pin",
    metavar="VERSION",
    help="The reconciler release the CI files install: the server's (default: this one).",
)
@click.option(
    "--action",
    "action_repository",
    default=ACTION_REPOSITORY,
    show_default=True,
    metavar="OWNER/NAME",
    help="The GitHub repository of the reconciler action (a fork's).",
)
@click.option("--force", is_flag=True, help="Overwrite files that exist.")
def init_command(
    directory: Path,
    ci_system: str | None,
    pin: str | None,
    action_repository: str,
    force: bool,
) -> None:
    """Start a configuration in DIRECTORY (default: config) from the example.

    Writes billing.yaml, offers.yaml and organizations.yaml (the example of a
    small MSP, Northwind IT Services) and their JSON Schemas for editors, and
    says what to change before the first plan. With --ci, also the CI files
    that plan pull requests and apply the main branch, pinned to one release.
    """
    source = example_config_dir()
    # In a clone, config/ is the example itself: nothing to write, and nothing refused.
    example = [name for name in CONFIG_FILES if _holds(directory / name, source / name)]
    own = [name for name in CONFIG_FILES if (directory / name).exists() and name not in example]
    # Adding CI to a configuration that exists: its files are the user's, never replaced.
    keep_own = ci_system is not None
    if own and not keep_own and not force:
        raise UserError(
            f"{_listed(directory, own)} already exist{'s' if len(own) == 1 else ''}; "
            "nothing written",
            hint="Pass --force to replace them with the example, choose another directory, or "
            "pass --ci to add only the CI files to this configuration.",
        )
    written = [n for n in CONFIG_FILES if n not in example and not (keep_own and n in own)]
    root, pinned, ci = Path(), None, []
    if ci_system is not None:
        root = _repository_root(directory)
        pinned, ci = _ci_files(ci_system, directory, root, pin, action_repository)
    ci_written = [file for file in ci if not _holds_text(root / file.path, file.text)]
    ci_existing = [root / file.path for file in ci_written if (root / file.path).exists()]
    if ci_existing and not force:
        raise UserError(
            f"{', '.join(map(str, ci_existing))} already exist"
            f"{'s' if len(ci_existing) == 1 else ''}; nothing written",
            hint="Pass --force to replace them (a pinned version is upgraded that way).",
        )
    try:
        (directory / SCHEMAS_DIR).mkdir(parents=True, exist_ok=True)
        for name in written:
            shutil.copyfile(source / name, directory / name)
        for name in schema_names():
            schema = json.dumps(load_schema(name), indent=2) + "\n"
            (directory / SCHEMAS_DIR / f"{name}.schema.json").write_text(schema, encoding="utf-8")
    except OSError as exc:
        raise UserError(
            f"{directory}: cannot write the configuration: {exc.strerror or exc}"
        ) from None
    for file in ci_written:
        try:
            write_text_atomically(root / file.path, file.text)
        except OSError as exc:
            raise UserError(
                f"{root / file.path}: cannot write the CI file: {exc.strerror or exc}"
            ) from None
    click.echo(_written(directory, written=written, example=example))
    if keep_own and own:
        click.echo(f"Kept {_listed(directory, own)} as they are.")
    if pinned is not None:
        _say_ci_written(pinned, root, ci, ci_written)
    _say_next(directory, with_ci=pinned is not None)


def _listed(directory: Path, names: list[str]) -> str:
    return ", ".join(str(directory / name) for name in names)


def _say_next(directory: Path, *, with_ci: bool) -> None:
    config = f" --config {directory}" if directory != DEFAULT_CONFIG_DIR else ""
    click.echo("Next:")
    click.echo(
        f"  1. In {directory / 'billing.yaml'}: your QuickBooks company name and file, billing "
        "mode, invoice day."
    )
    click.echo(
        f"  2. Map your Sherweb offers and organizations: `reconcile import{config} --qb-state "
        "PATH` proposes offers.yaml and organizations.yaml (--force to replace the example's), "
        "or edit them."
    )
    click.echo(f"  3. `reconcile validate{config}`, then `reconcile plan{config} --charges FILE`.")
    if with_ci:
        click.echo(
            "  4. On the server, `reconcile token create` a plan token and an apply token (--scope "
            "apply); store them, the server's URL and the Sherweb credentials as the CI's "
            "secrets (README: Plan and apply from CI)."
        )


def _written(directory: Path, *, written: list[str], example: list[str]) -> str:
    """What was written of the configuration, and what already held the example."""
    schemas = f"{directory / SCHEMAS_DIR} (for editors)"
    if written and example:
        return (
            f"Wrote {_listed(directory, written)} (the example of Northwind IT Services) and "
            f"{schemas}; {_listed(directory, example)} already held it."
        )
    if written:
        return (
            f"Wrote {_listed(directory, written)} (the example of Northwind IT Services) and "
            f"{schemas}."
        )
    if example:
        return (
            f"{_listed(directory, example)} already hold the example of Northwind IT Services; "
            f"wrote {schemas}."
        )
    return f"Wrote {schemas}."


def _say_ci_written(pin: Pin, root: Path, files: list[CiFile], written: list[CiFile]) -> None:
    # GitHub's workflows pin the action's tag too; GitLab's pipeline pip's requirement only.
    action = f" (uses: {pin.uses})" if any("uses: " in file.text for file in files) else ""
    if written:
        paths = " and ".join(str(root / file.path) for file in written)
        click.echo(f"Wrote {paths}: they install reconciler {pin.version}{action}.")
    unchanged = [str(root / file.path) for file in files if file not in written]
    if unchanged:
        click.echo(
            f"{' and '.join(unchanged)} already hold{'s' if len(unchanged) == 1 else ''} the same."
        )


def _ci_files(
    system: str, directory: Path, root: Path, pin: str | None, action_repository: str
) -> tuple[Pin, list[CiFile]]:
    """The release pinned, and the CI files to write at ``root`` for the configuration in
    ``directory``."""
    if pin is not None and not is_release(pin):
        raise UserError(f"--pin {pin}: not the version of a release (X.Y.Z)")
    version = pin or __version__
    if not is_release(version):
        raise UserError(
            f"this reconciler is {version}, a development build, not a release: the CI "
            "files would install a version that the package index does not have",
            hint="Name the server's release with --pin X.Y.Z, or run this from a release "
            '(pip install "reconciler==X.Y.Z").',
        )
    billing = directory if (directory / BILLING_FILE).exists() else example_config_dir()
    sherweb = load_billing(billing).sherweb
    pinned = Pin.release(version, action_repository)
    config = directory.resolve().relative_to(root.resolve())
    return pinned, ci_files(
        system,
        config=PurePosixPath(config.as_posix()),
        pin=pinned,
        sherweb_env=(
            sherweb.client_id_env,
            sherweb.client_secret_env,
            sherweb.subscription_key_env,
        ),
    )


def _repository_root(directory: Path) -> Path:
    """The root of the repository that holds ``directory``: the nearest Git work tree
    around it, else the current directory when it holds it, else its parent."""
    resolved = directory.resolve()
    for candidate in (resolved, *resolved.parents):
        if (candidate / ".git").exists():
            return _shown(candidate)
    here = Path.cwd().resolve()
    return _shown(here if resolved.is_relative_to(here) else resolved.parent)


def _shown(path: Path) -> Path:
    """``path`` relative to the current directory when under it (as people typed it)."""
    here = Path.cwd().resolve()
    return path.relative_to(here) if path.is_relative_to(here) else path


def _holds(path: Path, example: Path) -> bool:
    """Whether ``path`` is the example file already (the same file, or the same bytes)."""
    if not path.is_file():
        return False
    try:
        return path.samefile(example) or path.read_bytes() == example.read_bytes()
    except OSError:
        return False


def _holds_text(path: Path, text: str) -> bool:
    """Whether ``path`` holds ``text`` already."""
    try:
        return path.is_file() and path.read_text(encoding="utf-8") == text
    except (OSError, UnicodeDecodeError):
        return False
