"""The locks: hash-pinned where the image installs from them, consistent with pyproject and each other."""

from __future__ import annotations

import difflib
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from hack import lockfile
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]
REQUIREMENTS = ROOT / "requirements"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
DEVTOOLS = tomllib.loads((ROOT / "devtools" / "pyproject.toml").read_text())
UV = Path(sys.executable).parent / "uv"


def makefile_compile_command() -> list[str]:
    """The resolver flags `make lock` uses, read from the Makefile so the two cannot differ."""
    line = next(
        line for line in (ROOT / "Makefile").read_text().splitlines() if line.startswith("COMPILE :=")
    )
    words = re.findall(r'"[^"]*"|\S+', line.split(":=", 1)[1])
    return [str(UV), *[word.strip('"') for word in words[1:]]]


def test_runtime_lock_pins_every_package_with_hashes() -> None:
    pins = lockfile.read(REQUIREMENTS / "runtime.lock")
    assert pins
    assert [pin.name for pin in pins.values() if not pin.hashes] == []
    assert all(h.startswith("sha256:") for pin in pins.values() for h in pin.hashes)


def test_runtime_lock_satisfies_pyproject_and_holds_no_development_dependency() -> None:
    pins = lockfile.read(REQUIREMENTS / "runtime.lock")
    for text in PYPROJECT["project"]["dependencies"]:
        requirement = Requirement(text)
        pin = pins.get(lockfile.normalize(requirement.name))
        assert pin is not None, text
        assert requirement.specifier.contains(pin.version), text
    assert {"kopf", "cloudmodel-dev", "pytest"}.isdisjoint(pins)


def test_build_lock_pins_what_the_wheel_build_requires() -> None:
    pins = lockfile.read(REQUIREMENTS / "build.lock")
    assert [pin.name for pin in pins.values() if not pin.hashes] == []
    declared = [Requirement(text) for text in PYPROJECT["build-system"]["requires"]]
    listed = [
        Requirement(line) for line in (REQUIREMENTS / "build.in").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]  # fmt: skip
    assert sorted(map(str, listed)) == sorted(map(str, declared))
    for requirement in declared:
        assert requirement.specifier.contains(pins[lockfile.normalize(requirement.name)].version)


def test_development_set_runs_the_versions_the_image_ships() -> None:
    runtime = lockfile.read(REQUIREMENTS / "runtime.lock")
    development = lockfile.read(REQUIREMENTS / "test.lock")
    assert {key: development[key].version for key in runtime if key in development} == {
        key: pin.version for key, pin in runtime.items()
    }
    # `make setup` installs the test extra and the development distribution from test.lock.
    wanted = PYPROJECT["project"]["optional-dependencies"]["test"] + DEVTOOLS["project"]["dependencies"]
    for text in wanted:
        requirement = Requirement(text)
        if requirement.name == "cloudmodel-operator":
            continue
        pin = development.get(lockfile.normalize(requirement.name))
        assert pin is not None, text
        assert requirement.specifier.contains(pin.version), text


@pytest.mark.parametrize(
    ("lock", "inputs"),
    [
        ("runtime.lock", ["--generate-hashes", "pyproject.toml"]),
        ("build.lock", ["--generate-hashes", "requirements/build.in"]),
        ("test.lock", ["requirements/test.in", "-c", "requirements/runtime.lock",
                       "--no-emit-package", "cloudmodel-operator", "--no-emit-package", "cloudmodel-dev"]),
    ],
)  # fmt: skip
def test_lock_is_what_make_lock_resolves(lock: str, inputs: list[str], tmp_path: Path) -> None:
    """Resolving again, preferring the committed pins, changes nothing: pyproject and lock agree."""
    assert UV.exists(), "uv comes with the test extra"
    committed = REQUIREMENTS / lock
    output = tmp_path / lock
    shutil.copy(committed, output)
    result = subprocess.run(
        [*makefile_compile_command(), *inputs, "-o", str(output)],
        cwd=ROOT, capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    diff = list(
        difflib.unified_diff(
            committed.read_text().splitlines(),
            output.read_text().splitlines(),
            "committed",
            "resolved",
            lineterm="",
        )
    )
    assert diff == [], "run `make lock`:\n" + "\n".join(diff[:80])
