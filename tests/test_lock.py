"""requirements.lock (what `make` installs) pins every requirement of requirements.txt and
pyproject.toml inside its range, with hashes; the bench results name the lock and the versions."""
import re
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import run_chapters  # noqa: E402
from run_chapters import lock_pins, packages_line  # noqa: E402

LOCK = ROOT / "requirements.lock"


def requirements() -> list[Requirement]:
    """Every requirement `make lock` resolves: requirements.txt and the package's dependencies."""
    lines = [line.split("#", 1)[0].strip()
             for line in (ROOT / "requirements.txt").read_text().splitlines()]
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return [Requirement(text) for text in [*filter(None, lines), *project["dependencies"]]]


def unmet(wanted: list[Requirement], pins: dict[str, str]) -> list[str]:
    """Each requirement the pins leave out or pin outside its range, as a readable line."""
    problems = []
    for requirement in wanted:
        name = re.sub(r"[-_.]+", "-", requirement.name).lower()
        if name not in pins:
            problems.append(f"{requirement}: not in the lock")
        elif Version(pins[name]) not in requirement.specifier:
            problems.append(f"{requirement}: the lock pins {pins[name]}")
    return problems


def test_lock_pins_every_requirement_inside_its_range():
    problems = unmet(requirements(), lock_pins(LOCK))
    assert not problems, "requirements.lock is stale; run `make lock`:\n" + "\n".join(problems)


def test_a_stale_lock_is_noticed():
    pins = lock_pins(LOCK)
    assert unmet([Requirement("numpy>=99")], pins) == [f"numpy>=99: the lock pins {pins['numpy']}"]
    assert unmet([Requirement("no-such-package")], pins) == ["no-such-package: not in the lock"]


def test_every_pin_has_a_sha256_hash():
    entries = re.split(r"\n(?=[A-Za-z0-9])", LOCK.read_text().split("\n", 2)[2])
    assert len(entries) == len(lock_pins(LOCK)) > 100
    unhashed = [entry.split()[0] for entry in entries if "--hash=sha256:" not in entry]
    assert not unhashed, f"pins without a hash: {unhashed}"


def test_lock_pins_torch_the_machine_installs():
    # The wheels a constrained machine installs from local disk (requirements.txt's note).
    assert Version(lock_pins(LOCK)["torch"]) <= Version("2.14.1")
    assert Version(lock_pins(LOCK)["torchvision"]) <= Version("0.29.1")


def test_packages_line_names_the_lock_and_flags_a_version_it_does_not_pin(tmp_path):
    lock = tmp_path / "requirements.lock"
    lock.write_text("pytest==0.0.1 \\\n    --hash=sha256:00\n    # via -r requirements.txt\n")
    line = packages_line(lock, packages=("pytest", "no-such-package"))
    assert line.startswith("Packages: `requirements.lock` sha256 ")
    assert "pytest " in line and "(the lock pins 0.0.1)" in line
    assert "no-such-package not installed" in line
    lock.write_text(f"pytest=={run_chapters.importlib.metadata.version('pytest')}\n")
    assert "the lock pins" not in packages_line(lock, packages=("pytest",))
    assert "no `nothing.lock`" in packages_line(tmp_path / "nothing.lock", packages=("pytest",))
