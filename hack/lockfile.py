"""Reading the pinned requirement files under requirements/ (written by `make lock`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

_PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>[^\s;\\]+)")
_HASH = re.compile(r"--hash=(?P<algorithm>\w+):(?P<digest>[0-9a-f]+)")


def normalize(name: str) -> str:
    """The PEP 503 form of a distribution name: what the index and the SBOM's purl use."""
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass(frozen=True)
class Pin:
    name: str
    version: str
    hashes: tuple[str, ...]

    @property
    def key(self) -> str:
        return normalize(self.name)


def read(path: Path) -> dict[str, Pin]:
    """Every `name==version` requirement in the file with its `--hash` options, by normalized name."""
    pins: dict[str, Pin] = {}
    current: tuple[str, str] | None = None
    hashes: list[str] = []

    def close() -> None:
        if current is not None:
            pin = Pin(current[0], current[1], tuple(hashes))
            pins[pin.key] = pin

    for raw in path.read_text().splitlines():
        line = raw.split(" #", 1)[0].strip() if not raw.lstrip().startswith("#") else ""
        if not line:
            continue
        match = _PIN.match(line)
        if match:
            close()
            current, hashes = (match["name"], match["version"]), []
        hashes.extend(f"{m['algorithm']}:{m['digest']}" for m in _HASH.finditer(line))
    close()
    return pins
