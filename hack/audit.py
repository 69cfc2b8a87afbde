"""Audit a hash-pinned lock (by default the image's runtime set) for known vulnerabilities.

    python -m hack.audit [LOCK] [--report PATH] [--strict]

pip-audit does the audit, against PyPI's advisory data (`--vulnerability-service pypi`: the
OSV records PyPI attaches to each release, read from its per-version JSON API). Some networks
serve PyPI's project documents but not the per-version ones; pip-audit then skips every package
("not found on PyPI") and still prints "No known vulnerabilities found". So each package pip-audit
could not check is looked up in PyPI's project document, which carries the same advisory
records for the project's latest release: a pin at the latest release is audited from there.
Whatever is still unchecked is reported by name and reason, never counted as clean.

Exit status: 0 no known vulnerability (an "AUDIT INCOMPLETE" banner lists what could not be
checked); 1 a pinned package has a known vulnerability; 2 the audit itself failed (bad lock,
pip-audit broken); 3 with --strict, some package could not be checked.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from hack import lockfile

ROOT = Path(__file__).resolve().parent.parent
PYPI_JSON = "https://pypi.org/pypi"
TIMEOUT = 20
# How requests/urllib3 name a failure to reach the service at all (DNS, refused, proxy, TLS).
_NETWORK_FAILURE = re.compile(
    r"^(?:requests\.exceptions\.|urllib3\.exceptions\.|pip_audit\._service\.interface\.)?"
    r"(?:ConnectionError|ProxyError|ConnectTimeout|ReadTimeout|SSLError|NameResolutionError|MaxRetryError)\b.*$",
    re.MULTILINE,
)


@dataclass
class Finding:
    package: str
    version: str
    id: str
    aliases: list[str]
    fix_versions: list[str]
    source: str


@dataclass
class Report:
    lock: str
    packages: int
    audited_by_pip_audit: list[str] = field(default_factory=list)
    audited_from_latest_release: list[str] = field(default_factory=list)
    not_audited: dict[str, str] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)


class AuditError(Exception):
    """The audit could not run (as opposed to: it ran and could not reach its data)."""


def run_pip_audit(lock: Path) -> tuple[dict[str, Any] | None, str | None]:
    """pip-audit's JSON report, or (None, why) when it could not reach PyPI at all."""
    with tempfile.TemporaryDirectory() as tmp:
        output = Path(tmp) / "pip-audit.json"
        result = subprocess.run(  # noqa: S603 - our interpreter, our arguments
            [sys.executable, "-m", "pip_audit", "--requirement", str(lock), "--require-hashes",
             "--disable-pip", "--vulnerability-service", "pypi", "--format", "json",
             "--output", str(output), "--progress-spinner", "off", "--timeout", str(TIMEOUT)],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if output.exists() and output.stat().st_size:
            return json.loads(output.read_text()), None
    network = _NETWORK_FAILURE.findall(result.stderr)
    if network:
        return None, f"pip-audit could not reach PyPI: {network[-1].strip()}"
    raise AuditError(f"pip-audit failed (exit {result.returncode}):\n{result.stderr.strip()[-3000:]}")


def project_document(name: str, index: str) -> dict[str, Any]:
    request = urllib.request.Request(f"{index}/{name}/json", headers={"Accept": "application/json"})  # noqa: S310
    with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310 - https index
        document: dict[str, Any] = json.load(response)
        return document


def findings_in(records: list[dict[str, Any]], pin: lockfile.Pin, source: str) -> list[Finding]:
    return [
        Finding(pin.name, pin.version, record["id"], list(record.get("aliases") or []),
                [str(version) for version in record.get("fix_versions", record.get("fixed_in")) or []], source)
        for record in records
        if not record.get("withdrawn")
    ]  # fmt: skip


def from_latest_release(pin: lockfile.Pin, index: str) -> tuple[list[Finding] | None, str]:
    """Findings from the project document when the pin is the latest release, else why not."""
    try:
        document = project_document(pin.key, index)
    except urllib.error.HTTPError as exc:
        return None, f"PyPI answered {exc.code} for the project {pin.key}"
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        return None, f"PyPI's JSON API could not be reached: {reason}"
    latest = str(document.get("info", {}).get("version", ""))
    if latest != pin.version:
        return None, (
            f"PyPI's per-version advisory record for {pin.version} was not served, and the project "
            f"document only covers the latest release ({latest})"
        )
    return findings_in(document.get("vulnerabilities") or [], pin, "PyPI project JSON (latest release)"), ""


def audit(lock: Path, index: str = PYPI_JSON) -> Report:
    pins = lockfile.read(lock)
    if not pins:
        raise AuditError(f"{lock} pins no package")
    unhashed = sorted(pin.name for pin in pins.values() if not pin.hashes)
    if unhashed:
        raise AuditError(f"{lock} pins without a hash: {', '.join(unhashed)}")
    report = Report(lock=str(lock), packages=len(pins))
    pip_audit, unreachable = run_pip_audit(lock)
    unchecked: dict[str, str] = {}
    if pip_audit is None:
        unchecked = dict.fromkeys(pins, unreachable or "")
    else:
        for dependency in pip_audit.get("dependencies", []):
            key = lockfile.normalize(dependency["name"])
            if "skip_reason" in dependency:
                unchecked[key] = f"pip-audit: {dependency['skip_reason']}"
                continue
            report.audited_by_pip_audit.append(key)
            report.findings += findings_in(dependency.get("vulns", []), pins[key], "pip-audit (PyPI)")
        missing = set(pins) - set(report.audited_by_pip_audit) - set(unchecked)
        unchecked.update(dict.fromkeys(missing, "pip-audit did not report it"))
    for key, first_reason in sorted(unchecked.items()):
        found, reason = from_latest_release(pins[key], index)
        if found is None:
            report.not_audited[key] = f"{first_reason}; {reason}"
        else:
            report.audited_from_latest_release.append(key)
            report.findings += found
    return report


def summary(report: Report) -> list[str]:
    audited = len(report.audited_by_pip_audit) + len(report.audited_from_latest_release)
    lines = [
        f"audit: {report.packages} pinned packages in {report.lock}: {audited} audited against PyPI's "
        f"advisory data ({len(report.audited_by_pip_audit)} by pip-audit, "
        f"{len(report.audited_from_latest_release)} from the latest-release record), "
        f"{len(report.not_audited)} not audited; {len(report.findings)} known vulnerabilities in the audited ones"
    ]
    for finding in report.findings:
        fixed = ", ".join(finding.fix_versions) or "no fixed version"
        lines.append(
            f"audit: VULNERABLE {finding.package}=={finding.version}: {finding.id} "
            f"({', '.join(finding.aliases)}); fixed in: {fixed} [{finding.source}]"
        )
    if report.not_audited:
        lines.append(
            f"audit: AUDIT INCOMPLETE: {len(report.not_audited)} of {report.packages} packages could not be "
            "checked (not counted as clean; `make lock` re-pins to latest releases, which can be):"
        )
        lines += [f"audit:   {name}: {reason}" for name, reason in sorted(report.not_audited.items())]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hack.audit", description=__doc__.split("\n\n")[0])
    parser.add_argument("lock", type=Path, nargs="?", default=ROOT / "requirements" / "runtime.lock")
    parser.add_argument("--report", type=Path, help="also write the full result here as JSON")
    parser.add_argument("--strict", action="store_true", help="exit 3 when any package could not be checked")
    parser.add_argument("--index-json", default=PYPI_JSON, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    try:
        report = audit(args.lock, args.index_json)
    except AuditError as exc:
        print(f"audit: FAILED to run: {exc}", file=sys.stderr)
        return 2
    print("\n".join(summary(report)), flush=True)
    if args.report:
        args.report.parent.mkdir(parents=True, exist_ok=True)
        args.report.write_text(json.dumps(asdict(report), indent=2) + "\n")
    if report.findings:
        return 1
    if report.not_audited and args.strict:
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
