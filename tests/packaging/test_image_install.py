"""The container image's install steps, run in a fresh virtualenv (no container engine here)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from cloudmodel_operator import __version__

ROOT = Path(__file__).resolve().parents[2]


def test_dockerfile_installs_through_the_tested_script() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "RUN sh hack/install-image.sh /opt/cloudmodel" in dockerfile
    assert re.search(r"^USER 65532:65532$", dockerfile, re.MULTILINE)
    assert re.search(r"^ARG PYTHON_IMAGE=python:3\.11\.\d+-slim-\w+$", dockerfile, re.MULTILINE)
    assert 'ENTRYPOINT ["/opt/cloudmodel/bin/cloudmodel"]' in dockerfile


def test_image_install_steps_work_in_a_fresh_virtualenv(tmp_path: Path) -> None:
    prefix = tmp_path / "opt-cloudmodel"
    result = subprocess.run(
        ["sh", str(ROOT / "hack" / "install-image.sh"), str(prefix)],
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert result.stdout.strip().endswith(f"cloudmodel {__version__}")
    assert not (prefix / "bin" / "pip").exists(), "pip must not ship in the image"
    installed = subprocess.run(
        [str(prefix / "bin" / "python"), "-c", "import importlib.metadata as m; "
         "print('\\n'.join(sorted(f'{d.name}=={d.version}' for d in m.distributions())))"],
        capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    pinned = [
        line for line in (ROOT / "requirements" / "runtime.lock").read_text().splitlines()
        if line and not line.startswith("#")
    ]  # fmt: skip
    normalized = {re.sub(r"[-_.]+", "-", item).lower() for item in installed}
    missing = [pin for pin in pinned if re.sub(r"[-_.]+", "-", pin).lower() not in normalized]
    assert missing == []
    help_text = subprocess.run(
        [str(prefix / "bin" / "cloudmodel"), "run", "--help"], capture_output=True, text=True, check=True
    ).stdout
    assert "--allow-endpoint" in help_text
