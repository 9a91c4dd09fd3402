"""Publishing as maintainers do it: the GitHub workflows call Makefile targets that exist,
Binder builds from the repository as it is, and the README's badges name the one repository."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = ROOT / ".github" / "workflows"
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
REPO_URL = CONFIG["repository"]["url"]
OWNER_REPO = REPO_URL.removeprefix("https://github.com/")
BRANCH = CONFIG["repository"]["branch"]


def makefile_targets() -> set[str]:
    return set(re.findall(r"^([A-Za-z][\w-]*)\s*:(?!=)", (ROOT / "Makefile").read_text(), re.M))


def workflow(name: str) -> dict:
    data = yaml.safe_load((WORKFLOWS / name).read_text())
    data["on"] = data.pop(True, data.get("on"))   # YAML 1.1 reads the key `on` as True
    return data


def steps(data: dict) -> list[dict]:
    return [step for job in data["jobs"].values() for step in job.get("steps", [])]


def make_targets_called(data: dict) -> list[str]:
    """The `make` targets a workflow runs, directly or through .ci/run."""
    commands = [step["run"] for step in steps(data) if "run" in step]
    if any(".ci/run" in c for c in commands):
        commands.append((ROOT / ".ci" / "run").read_text())
    return [t for c in commands for t in re.findall(r"\bmake\s+([A-Za-z][\w-]*)", c)]


def test_workflows_parse_and_call_existing_make_targets():
    files = sorted(p.name for p in WORKFLOWS.glob("*.y*ml"))
    assert {"pages.yml", "test.yml"} <= set(files)
    for name in files:
        called = make_targets_called(workflow(name))
        assert called, f"{name} runs no make target"
        missing = set(called) - makefile_targets()
        assert not missing, f"{name} calls make {missing}, which the Makefile lacks"


def test_test_workflow_runs_make_test_on_every_push_and_pull_request():
    data = workflow("test.yml")
    assert set(data["on"]) == {"push", "pull_request"} and not data["on"]["push"]
    assert "test" in make_targets_called(data)
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_pages_workflow_builds_the_book_on_main_and_deploys_it():
    data = workflow("pages.yml")
    assert data["on"]["push"]["branches"] == ["main"]
    assert data["permissions"]["pages"] == "write" and data["permissions"]["id-token"] == "write"
    build, deploy = data["jobs"]["build"], data["jobs"]["deploy"]
    assert "book" in make_targets_called({"jobs": {"build": build}})
    upload = [s for s in build["steps"] if s.get("uses", "").startswith("actions/upload-pages-artifact@")]
    assert upload and upload[0]["with"]["path"] == "_build/html"
    assert deploy["needs"] == "build" and deploy["environment"]["name"] == "github-pages"
    assert any(s.get("uses", "").startswith("actions/deploy-pages@") for s in deploy["steps"])


def test_binder_builds_from_the_repository_root():
    """repo2docker reads binder/ or .binder/ first, and environment.yml before requirements.txt:
    none of them may shadow the root requirements.txt; postBuild installs demystify from here."""
    assert (ROOT / "requirements.txt").is_file()
    for shadow in ("binder", ".binder", "environment.yml", "Pipfile", "setup.py"):
        assert not (ROOT / shadow).exists(), f"{shadow} would change how Binder builds"
    post = ROOT / "postBuild"
    assert post.stat().st_mode & 0o111, "postBuild must be executable"
    assert "pip install --no-deps -e ." in post.read_text()


def test_readme_badges_point_at_the_one_repository():
    readme = (ROOT / "README.md").read_text()
    links = re.findall(r"\]\((https?://[^)\s]+)\)", readme)
    site = CONFIG["html"]["baseurl"].rstrip("/")
    expected = {
        "colab.research.google.com": f"https://colab.research.google.com/github/{OWNER_REPO}/blob/{BRANCH}/",
        "mybinder.org/v2": f"https://mybinder.org/v2/gh/{OWNER_REPO}/{BRANCH}",
        "github.io": site,
    }
    for marker, prefix in expected.items():
        found = [u for u in links if marker in u and "badge" not in u and "assets" not in u]
        assert found, f"the README has no {marker} link"
        assert all(u.startswith(prefix) for u in found), f"{found} do not start with {prefix}"
    github = {u.split("#")[0].rstrip("/") for u in re.findall(r"https://github\.com/[\w.-]+/[\w.-]+", readme)}
    assert github == {REPO_URL}, f"the README names other repositories: {github - {REPO_URL}}"
    assert site.startswith(f"https://{OWNER_REPO.split('/')[0]}.github.io/")


def test_readme_says_how_to_look_at_the_screenshots():
    readme = (ROOT / "README.md").read_text()
    assert "make screenshots" in readme and "_build/screenshots" in readme
    assert "screenshots" in makefile_targets()


@pytest.mark.parametrize("target", ["test", "screenshots"])
def test_browser_targets_install_debian_chromium_when_missing(target):
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(rf"^{target}:.*\bchromium\b", makefile, re.M), f"make {target} needs chromium"
    recipe = re.search(r"^chromium:.*\n((?:\t.*\n)+)", makefile, re.M).group(1)
    assert "command -v chromium" in recipe and "apt-get install -y -q chromium" in recipe
    commands = [line for line in makefile.splitlines() if line.startswith("\t")]
    assert not any("playwright install" in line for line in commands)
