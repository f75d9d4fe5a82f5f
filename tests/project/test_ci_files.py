"""`reconcile init --ci github`: the workflows of a configuration repository of one's own,
pinned to one release, that actionlint (with shellcheck) passes; and this repository's
own workflows, which are the same files rendered for its checkout.

Rewrite this repository's workflows after changing their templates with
`python tests/project/test_ci_files.py`.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path, PurePosixPath

import pytest
import yaml
from click.testing import CliRunner
from support.lint import broken_workflow, lint, shellcheck
from support.paths import REPO

from reconciler.cli import cli
from reconciler.deploy.ci import ACTION_REPOSITORY, Pin, ci_files
from reconciler.model.config import SherwebSettings

WORKFLOWS = REPO / ".github" / "workflows"
DEFAULTS = SherwebSettings()
SHERWEB_ENV = (DEFAULTS.client_id_env, DEFAULTS.client_secret_env, DEFAULTS.subscription_key_env)


def this_repositorys_workflows() -> list:
    """plan.yml and apply.yml as this repository runs them: its own action, its checkout."""
    return ci_files("github", config=PurePosixPath("config"), pin=Pin.checkout(),
                    sherweb_env=SHERWEB_ENV)  # fmt: skip


def _run(*args: object):
    return CliRunner().invoke(cli, [str(a) for a in args])


def _load(path: Path) -> dict:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    # YAML 1.1 reads the key `on` as true.
    document["on"] = document.pop(True, document.get("on"))
    return document


def _action_steps(workflow: dict) -> list[dict]:
    return [
        step
        for job in workflow["jobs"].values()
        for step in job["steps"]
        if "reconciler" in step.get("uses", "") or step.get("uses") == "./"
    ]


@pytest.fixture
def repository(tmp_path, monkeypatch) -> Path:
    """An empty Git repository of one's own, as the current directory."""
    root = tmp_path / "northwind-billing"
    root.mkdir()
    if shutil.which("git"):
        subprocess.run(["git", "init", "--quiet", str(root)], check=True, timeout=60)
    else:
        (root / ".git").mkdir()
    monkeypatch.chdir(root)
    return root


def test_this_repositorys_workflows_are_what_init_writes_for_its_checkout():
    for file in this_repositorys_workflows():
        assert (REPO / file.path).read_text(encoding="utf-8") == file.text, (
            f"{file.path} is not what its template renders: "
            "run `python tests/project/test_ci_files.py`"
        )


def test_init_ci_github_writes_workflows_pinned_to_one_release(repository):
    result = _run("init", "--ci", "github", "--pin", "1.4.2")
    assert result.exit_code == 0, result.output
    assert (
        "Wrote .github/workflows/plan.yml and .github/workflows/apply.yml: they install "
        f"reconciler 1.4.2 (uses: {ACTION_REPOSITORY}@v1.4.2)." in result.stdout
    )
    assert "reconcile token create" in result.stdout
    plan = _load(repository / ".github/workflows/plan.yml")
    apply = _load(repository / ".github/workflows/apply.yml")
    assert plan["on"]["pull_request"]["paths"] == ["config/**", ".github/workflows/plan.yml"]
    assert apply["on"]["push"]["paths"] == ["config/**"]
    steps = _action_steps(plan) + _action_steps(apply)
    assert [step["with"]["command"] for step in steps] == ["plan", "plan", "apply"]
    for step in steps:
        # The action's tag and the release it installs: one version, the server's.
        assert step["uses"] == f"{ACTION_REPOSITORY}@v1.4.2"
        assert step["with"]["version"] == "1.4.2" and "source" not in step["with"]
        assert step["with"]["config"] == "config"
    for step in steps[:2]:
        assert set(step["env"]) == set(SHERWEB_ENV)
    # The configuration beside them validates, as the workflows' first step will.
    assert _run("validate", "--config", repository / "config").exit_code == 0


def test_the_written_workflows_pass_actionlint_with_shellcheck(repository):
    checker = shellcheck()
    assert _run("init", "--ci", "github", "--pin", "1.4.2").exit_code == 0
    files = sorted((repository / ".github/workflows").glob("*.yml"))
    linted = lint(repository, *files, shellcheck=checker)
    assert linted.returncode == 0, linted.stdout + linted.stderr
    # With the action beside them (uses: ./), actionlint also checks every input they
    # give against action.yml: a misspelt one would fail here.
    shutil.copy(REPO / "action.yml", repository / "action.yml")
    for file in files:
        text = file.read_text(encoding="utf-8")
        file.write_text(text.replace(f"{ACTION_REPOSITORY}@v1.4.2", "./"), encoding="utf-8")
    linted = lint(repository, *files, shellcheck=checker)
    assert linted.returncode == 0, linted.stdout + linted.stderr
    misspelt = files[0].read_text(encoding="utf-8").replace("server-url:", "server_url:")
    files[0].write_text(misspelt, encoding="utf-8")
    assert 'input "server_url" is not defined' in lint(repository, files[0]).stdout


def test_actionlint_checks_run_scripts_with_shellcheck(tmp_path):
    # What the test above relies on: a script shellcheck objects to fails actionlint.
    broken = broken_workflow(tmp_path, "      - run: cp $SOURCE target\n")
    linted = lint(tmp_path, broken, shellcheck=shellcheck())
    assert linted.returncode != 0 and "SC2086" in linted.stdout


def test_a_development_build_pins_nothing_without_a_release(repository, monkeypatch):
    monkeypatch.setattr("reconciler.commands.init.__version__", "0.3.1.dev4+g1a2b3c4")
    refused = _run("init", "--ci", "github")
    assert refused.exit_code == 1
    assert "this reconciler is 0.3.1.dev4+g1a2b3c4, a development build" in refused.stderr
    assert "--pin X.Y.Z" in refused.stderr
    assert not (repository / "config").exists() and not (repository / ".github").exists()
    bad = _run("init", "--ci", "github", "--pin", "main")
    assert bad.exit_code == 1 and "--pin main: not the version of a release" in bad.stderr
    # A release installed pins itself.
    monkeypatch.setattr("reconciler.commands.init.__version__", "0.3.0")
    assert _run("init", "--ci", "gitlab").exit_code == 0
    assert 'pip install --quiet "reconciler==0.3.0"' in (repository / ".gitlab-ci.yml").read_text(
        encoding="utf-8"
    )


def test_ci_is_added_to_a_configuration_that_exists_and_keeps_it(repository):
    config = repository / "billing" / "config"
    assert _run("init", config).exit_code == 0
    billing = config / "billing.yaml"
    text = billing.read_text(encoding="utf-8")
    billing.write_text(text.replace("SHERWEB_CLIENT_SECRET", "NORTHWIND_SHERWEB_SECRET"), "utf-8")
    mine = billing.read_bytes()
    result = _run("init", config, "--ci", "github", "--pin", "1.4.2")
    assert result.exit_code == 0, result.output
    assert f"Kept {billing} as they are." in result.stdout
    assert billing.read_bytes() == mine
    # At the repository's root, naming the configuration where it is.
    plan = _load(repository / ".github/workflows/plan.yml")
    assert plan["on"]["pull_request"]["paths"][0] == "billing/config/**"
    [step] = _action_steps(plan)
    assert step["with"]["config"] == "billing/config"
    # The names billing.yaml gives the credentials.
    assert step["env"]["NORTHWIND_SHERWEB_SECRET"] == "${{ secrets.NORTHWIND_SHERWEB_SECRET }}"
    assert "SHERWEB_CLIENT_SECRET" not in step["env"]


def test_ci_files_are_never_overwritten_without_force(repository):
    assert _run("init", "--ci", "github", "--pin", "1.4.2").exit_code == 0
    plan = repository / ".github/workflows/plan.yml"
    again = _run("init", "--ci", "github", "--pin", "1.4.2")
    assert again.exit_code == 0 and "already hold the same" in again.stdout
    plan.write_text(plan.read_text(encoding="utf-8") + "# mine\n", encoding="utf-8")
    refused = _run("init", "--ci", "github", "--pin", "1.4.2")
    assert refused.exit_code == 1
    assert "Error: .github/workflows/plan.yml already exists; nothing written" in refused.stderr
    assert "--force" in refused.stderr
    upgrade = _run("init", "--ci", "github", "--pin", "1.5.0")
    assert upgrade.exit_code == 1
    assert ".github/workflows/plan.yml, .github/workflows/apply.yml already exist" in (
        upgrade.stderr
    )
    assert "# mine" in plan.read_text(encoding="utf-8")
    assert "1.4.2" in (repository / ".github/workflows/apply.yml").read_text(encoding="utf-8")
    # --force upgrades both files to another release; the configuration stays as it is.
    billing = (repository / "config" / "billing.yaml").read_bytes()
    upgraded = _run("init", "--ci", "github", "--pin", "1.5.0", "--force")
    assert upgraded.exit_code == 0, upgraded.output
    for name in ("plan.yml", "apply.yml"):
        text = (repository / ".github/workflows" / name).read_text(encoding="utf-8")
        assert "@v1.5.0" in text and "1.4.2" not in text and "# mine" not in text
    assert (repository / "config" / "billing.yaml").read_bytes() == billing


def test_a_configuration_at_the_repository_root(repository):
    result = _run("init", ".", "--ci", "github", "--pin", "1.4.2")
    assert result.exit_code == 0, result.output
    plan = _load(repository / ".github/workflows/plan.yml")
    assert plan["on"]["pull_request"]["paths"][0] == "**"
    assert _action_steps(plan)[0]["with"]["config"] == "."


def test_a_configuration_path_that_would_need_quoting_is_refused(repository):
    refused = _run("init", "my billing", "--ci", "github", "--pin", "1.4.2")
    assert refused.exit_code == 1 and "may hold only letters, digits" in refused.stderr
    assert not (repository / "my billing").exists()


def test_without_git_the_repository_is_the_current_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert _run("init", "--ci", "github", "--pin", "1.4.2").exit_code == 0
    assert (tmp_path / ".github/workflows/plan.yml").is_file()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    # A directory outside the current one: its parent is taken for the repository.
    outside = tmp_path / "other" / "config"
    assert _run("init", outside, "--ci", "gitlab", "--pin", "1.4.2").exit_code == 0
    assert (tmp_path / "other" / ".gitlab-ci.yml").is_file()
    assert re.search(r"--config config\b", (tmp_path / "other/.gitlab-ci.yml").read_text("utf-8"))


def test_a_ci_file_that_cannot_be_written_is_a_clear_error(repository):
    (repository / ".github").write_text("a file, not a directory\n", encoding="utf-8")
    refused = _run("init", "--ci", "github", "--pin", "1.4.2")
    assert refused.exit_code == 1
    assert ".github/workflows/plan.yml: cannot write the CI file" in refused.stderr
    assert "Traceback" not in refused.output


def test_the_readme_names_the_action_where_it_lives():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    named = set(re.findall(r"uses: ([\w.-]+/[\w.-]+)@v", readme))
    assert named == {ACTION_REPOSITORY}


def write_this_repositorys_workflows() -> None:
    """Rewrite .github/workflows/plan.yml and apply.yml from their templates."""
    for file in this_repositorys_workflows():
        (REPO / file.path).write_text(file.text, encoding="utf-8", newline="\n")
        print(f"wrote {file.path}")


if __name__ == "__main__":
    write_this_repositorys_workflows()
