"""The container image's install steps, run in a fresh virtualenv (no container engine here).

One install per module, exactly as the Dockerfile makes it; then: it holds the runtime lock and
nothing else, no development code or dependency, only the `run` and `probe` commands, and its
CycloneDX SBOM lists exactly that set.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hack import lockfile

from cloudmodel_operator import __version__

ROOT = Path(__file__).resolve().parents[2]
RUNTIME_LOCK = ROOT / "requirements" / "runtime.lock"
PRODUCT = "cloudmodel-operator"
# Development-only distributions and packages that must never reach the image.
DEVELOPMENT_DISTRIBUTIONS = {"cloudmodel-dev", "kopf", "pip", "setuptools", "wheel", "pytest"}
DEVELOPMENT_MODULES = ["cloudmodel_dev", "kopf", "pip", "setuptools"]


@pytest.fixture(scope="module")
def image_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    prefix = tmp_path_factory.mktemp("image") / "opt-cloudmodel"
    result = subprocess.run(
        ["sh", str(ROOT / "hack" / "install-image.sh"), str(prefix)],
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert result.stdout.strip().endswith(f"cloudmodel {__version__}")
    return prefix


def run_in_image(prefix: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(prefix / "bin" / "python"), *args], capture_output=True, text=True, check=check
    )


def installed_distributions(prefix: Path) -> dict[str, str]:
    listing = run_in_image(
        prefix, "-c", "import importlib.metadata as m, json; "
        "print(json.dumps({d.name: d.version for d in m.distributions()}))",
    ).stdout  # fmt: skip
    return {lockfile.normalize(name): version for name, version in json.loads(listing).items()}


def test_dockerfile_installs_through_the_tested_script() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "RUN sh hack/install-image.sh /opt/cloudmodel" in dockerfile
    assert "COPY requirements/build.lock requirements/runtime.lock requirements/" in dockerfile
    assert re.search(r"^USER 65532:65532$", dockerfile, re.MULTILINE)
    assert re.search(r"^ARG PYTHON_IMAGE=python:3\.11\.\d+-slim-\w+$", dockerfile, re.MULTILINE)
    assert 'ENTRYPOINT ["/opt/cloudmodel/bin/cloudmodel"]' in dockerfile
    # The build context leaves the development distribution and the tests out altogether.
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {"devtools", "tests", ".venv"} <= set(ignored)


def test_install_script_verifies_every_download_against_a_hash() -> None:
    script = (ROOT / "hack" / "install-image.sh").read_text()
    assert 'pinned="--require-hashes --no-deps --only-binary :all:"' in script
    installs = [
        line for line in script.splitlines() if " install " in line and not line.lstrip().startswith("#")
    ]
    # Every install from the index is hash-pinned; the only other one is the wheel built here.
    from_index = [line for line in installs if "-r " in line]
    assert from_index, installs
    assert all("$pinned" in line for line in from_index), installs
    (local,) = [line for line in installs if "-r " not in line]
    assert "--no-deps" in local
    assert "dist/cloudmodel_operator-" in local


def test_image_holds_exactly_the_runtime_lock(image_root: Path) -> None:
    installed = installed_distributions(image_root)
    assert installed.pop(PRODUCT) == __version__
    pinned = {key: pin.version for key, pin in lockfile.read(RUNTIME_LOCK).items()}
    assert installed == pinned
    assert not (image_root / "bin" / "pip").exists(), "pip must not ship in the image"


def test_image_has_no_development_code_or_dependency(image_root: Path) -> None:
    assert DEVELOPMENT_DISTRIBUTIONS.isdisjoint(installed_distributions(image_root))
    for module in DEVELOPMENT_MODULES:
        result = run_in_image(image_root, "-c", f"import {module}", check=False)
        assert "ModuleNotFoundError" in result.stderr, module
        assert result.returncode != 0, module
    site_packages = next(image_root.glob("lib/python3*/site-packages"))
    product_files = {path.stem for path in (site_packages / "cloudmodel_operator").rglob("*.py")}
    assert product_files.isdisjoint({"simulator", "sandbox", "controlplane", "server", "scenario"})


def test_aiohttp_is_only_the_kubernetes_clients_dependency_and_never_loaded(image_root: Path) -> None:
    """kubernetes 36+ declares aiohttp for an asyncio client the operator does not use."""
    required_by = run_in_image(
        image_root, "-c", "import importlib.metadata as m; "
        "print(sorted(d.name for d in m.distributions() if any("
        "r.split(';')[0].split('>')[0].split('=')[0].split('<')[0].strip().lower() == 'aiohttp' "
        "and 'extra ==' not in r for r in (d.requires or []))))",
    ).stdout.strip()  # fmt: skip
    # kubernetes needs it directly and through aiohttp-retry (its own dependency); nothing else does.
    assert required_by == "['aiohttp-retry', 'kubernetes']", required_by
    loaded = run_in_image(
        image_root, "-c", "import sys, cloudmodel_operator.app, cloudmodel_operator.probe; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('aiohttp', 'kopf', 'cloudmodel_dev')))",
    ).stdout.strip()  # fmt: skip
    assert loaded == "[]"


def test_image_cli_offers_only_run_and_probe(image_root: Path) -> None:
    help_text = subprocess.run(
        [str(image_root / "bin" / "cloudmodel"), "--help"], capture_output=True, text=True, check=True
    ).stdout
    section = help_text.split("\n  COMMAND\n", 1)[1].split("\n\n", 1)[0]
    assert set(re.findall(r"^ {4}(\w[\w-]*)", section, re.MULTILINE)) == {"run", "probe"}, help_text
    simulate = subprocess.run(
        [str(image_root / "bin" / "cloudmodel"), "simulate"], capture_output=True, text=True, check=False
    )
    assert simulate.returncode == 2
    assert "invalid choice: 'simulate'" in simulate.stderr
    run_help = subprocess.run(
        [str(image_root / "bin" / "cloudmodel"), "run", "--help"], capture_output=True, text=True, check=True
    ).stdout
    assert "--allow-endpoint" in run_help


def test_sbom_lists_exactly_what_the_image_installs(image_root: Path, tmp_path: Path) -> None:
    output = tmp_path / "sbom" / "cloudmodel-operator.cdx.json"
    result = subprocess.run(
        [sys.executable, "-m", "hack.sbom", str(image_root), str(output)],
        cwd=ROOT, capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    document = json.loads(output.read_text())
    assert document["bomFormat"] == "CycloneDX"
    assert document["specVersion"] == "1.6"
    listed = {lockfile.normalize(c["name"]): c["version"] for c in document["components"]}
    assert listed == {**installed_distributions(image_root)}
    purls = sorted(c["purl"] for c in document["components"] if "purl" in c)
    assert purls == sorted(
        f"pkg:pypi/{key}@{pin.version}" for key, pin in lockfile.read(RUNTIME_LOCK).items()
    )
    print(result.stdout.strip())
