"""Write the CycloneDX SBOM of an image install and check it against the runtime lock.

    python -m hack.sbom PREFIX OUTPUT [--lock requirements/runtime.lock]

PREFIX is a directory made by hack/install-image.sh (what the image has under /opt/cloudmodel).
cyclonedx-py (PyPI: cyclonedx-bom) reads the distributions installed there and validates its
output against the CycloneDX schema; this script then reads the SBOM back and fails unless its
components are exactly the pinned runtime set plus the operator itself, so the SBOM can never
describe something other than what ships.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from hack import lockfile

ROOT = Path(__file__).resolve().parent.parent
PRODUCT = "cloudmodel-operator"
SPEC_VERSION = "1.6"


def generate(prefix: Path, output: Path) -> None:
    output.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(  # noqa: S603 - our interpreter, our arguments
        [sys.executable, "-m", "cyclonedx_py", "environment", str(prefix / "bin" / "python"),
         "--output-format", "JSON", "--spec-version", SPEC_VERSION, "--validate",
         "--output-file", str(output)],
        check=True,
    )  # fmt: skip


def components(document: dict[str, Any]) -> dict[str, str]:
    """name -> version of every component, after checking how each says where it came from.

    Packages from the index carry their PyPI purl. The operator itself is built from this
    source tree, so it must carry no PyPI purl (no package of that name on PyPI is ours) and
    must carry the SHA-256 of the wheel that was installed.
    """
    if document.get("bomFormat") != "CycloneDX" or document.get("specVersion") != SPEC_VERSION:
        raise ValueError(f"not a CycloneDX {SPEC_VERSION} document")
    found: dict[str, str] = {}
    for component in document.get("components", []):
        name, version = component["name"], component["version"]
        key = lockfile.normalize(name)
        if key == PRODUCT:
            hashes = [h for ref in component.get("externalReferences", []) for h in ref.get("hashes", [])]
            if "purl" in component or not any(h.get("alg") == "SHA-256" for h in hashes):
                raise ValueError(f"{name} {version}: expected no purl and the built wheel's SHA-256")
        else:
            expected_purl = f"pkg:pypi/{key}@{version}"
            if component.get("purl") != expected_purl:
                raise ValueError(
                    f"{name} {version}: purl {component.get('purl')!r}, expected {expected_purl!r}"
                )
        found[key] = version
    return found


def check(output: Path, lock: Path) -> str:
    """A one-line summary, or ValueError naming every difference from the lock."""
    document = json.loads(output.read_text())
    found = components(document)
    product_version = found.pop(PRODUCT, None)
    if product_version is None:
        raise ValueError(f"the SBOM does not list {PRODUCT} itself")
    pinned = {key: pin.version for key, pin in lockfile.read(lock).items()}
    problems = [
        f"not in the SBOM: {name}=={version}"
        for name, version in sorted(pinned.items())
        if found.get(name) != version
    ]
    problems += [
        f"not in {lock.name}: {name}=={version}"
        for name, version in sorted(found.items())
        if pinned.get(name) != version
    ]
    if problems:
        raise ValueError("; ".join(problems))
    return (
        f"sbom: {output} (CycloneDX {SPEC_VERSION}): {len(found) + 1} components, "
        f"{PRODUCT} {product_version} and the {len(pinned)} packages of {lock.name}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hack.sbom", description=__doc__.split("\n\n")[0])
    parser.add_argument("prefix", type=Path, help="an install made by hack/install-image.sh")
    parser.add_argument("output", type=Path, help="where to write the SBOM (JSON)")
    parser.add_argument("--lock", type=Path, default=ROOT / "requirements" / "runtime.lock")
    args = parser.parse_args(argv)
    generate(args.prefix, args.output)
    try:
        print(check(args.output, args.lock))
    except ValueError as exc:
        print(f"sbom: {args.output} does not match {args.lock}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
