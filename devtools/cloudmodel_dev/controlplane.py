"""A real, local Kubernetes control plane (etcd + kube-apiserver) on loopback.

Used by the test suite and by `cloudmodel-dev sandbox`. The binaries are built from the Go module
proxy by `tests/controlplane/build.sh` and cached per version; nothing is downloaded at run time.
There is no controller-manager or scheduler: no garbage collection, no default ServiceAccounts,
no pods. That is all an operator that only reads and writes custom resources needs.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

import yaml

ADMIN_USER = "admin"
UNPRIVILEGED_USER = "alice"
READY_TIMEOUT = 90.0
COMPONENTS = ("etcd", "kube-apiserver")  # start order; stopped in reverse


class ControlPlaneError(RuntimeError):
    """The control plane could not be built or started; the message says what to do."""


def repo_root() -> Path:
    """The checkout this package runs from (the control plane is a development tool)."""
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "tests" / "controlplane" / "build.sh").exists():
            return parent
    raise ControlPlaneError(
        "cannot find tests/controlplane/build.sh: the local control plane needs a checkout of the repository"
    )


def ensure_binaries() -> Path:
    """Directory holding etcd, kube-apiserver and kubectl; builds them on first use."""
    preset = os.environ.get("CLOUDMODEL_CONTROLPLANE_BIN")
    if preset:
        bin_dir = Path(preset)
    else:
        script = repo_root() / "tests" / "controlplane" / "build.sh"
        result = subprocess.run(  # noqa: S603 - our own script
            ["bash", str(script)],  # noqa: S607 - bash from PATH
            stdout=subprocess.PIPE,
            stderr=None,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise ControlPlaneError(
                f"building the test control plane failed (exit {result.returncode}); "
                "see the messages above, or run 'make controlplane' to retry"
            )
        bin_dir = Path(result.stdout.strip().splitlines()[-1])
    missing = [name for name in ("etcd", "kube-apiserver", "kubectl") if not (bin_dir / name).exists()]
    if missing:
        raise ControlPlaneError(
            f"{', '.join(missing)} missing in {bin_dir}; run 'make controlplane' to build them"
        )
    return bin_dir


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _openssl(*args: str, cwd: Path) -> None:
    if shutil.which("openssl") is None:
        raise ControlPlaneError("openssl is needed to generate the control plane's certificates")
    subprocess.run(  # noqa: S603
        ["openssl", *args],  # noqa: S607 - openssl from PATH, checked above
        cwd=cwd,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _make_certificates(pki: Path) -> None:
    """A throwaway CA, an apiserver serving cert for 127.0.0.1/localhost, a ServiceAccount key."""
    pki.mkdir(parents=True)
    _openssl("genrsa", "-out", "ca.key", "2048", cwd=pki)
    _openssl(
        "req", "-x509", "-new", "-key", "ca.key", "-sha256", "-days", "2", "-subj", "/CN=cloudmodel-test-ca",
        "-out", "ca.crt", cwd=pki,
    )  # fmt: skip
    _openssl("genrsa", "-out", "apiserver.key", "2048", cwd=pki)
    _openssl(
        "req",
        "-new",
        "-key",
        "apiserver.key",
        "-subj",
        "/CN=kube-apiserver",
        "-out",
        "apiserver.csr",
        cwd=pki,
    )
    (pki / "san.ext").write_text(
        "subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes.default.svc\n"
        "extendedKeyUsage=serverAuth\nkeyUsage=digitalSignature,keyEncipherment\n"
    )
    _openssl(
        "x509", "-req", "-in", "apiserver.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
        "-days", "2", "-sha256", "-extfile", "san.ext", "-out", "apiserver.crt", cwd=pki,
    )  # fmt: skip
    _openssl("genrsa", "-out", "sa.key", "2048", cwd=pki)


@dataclass
class ControlPlane:
    """A running etcd + kube-apiserver pair. Use `start()` as a context manager."""

    bin_dir: Path
    workdir: Path
    api_port: int = 0
    tokens: dict[str, str] = field(default_factory=dict)
    extra_args: dict[str, list[str]] = field(default_factory=dict)
    """Additional flags per component, e.g. {"etcd": ["--max-request-bytes=65536"]}."""
    _processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    _commands: dict[str, list[str]] = field(default_factory=dict)

    @property
    def server(self) -> str:
        return f"https://127.0.0.1:{self.api_port}"

    @property
    def ca_file(self) -> Path:
        return self.workdir / "pki" / "ca.crt"

    @property
    def kubectl(self) -> Path:
        return self.bin_dir / "kubectl"

    def kubeconfig_path(self, user: str = ADMIN_USER) -> Path:
        return self.workdir / f"kubeconfig-{user}.yaml"

    def _write_kubeconfigs(self) -> None:
        for user, token in self.tokens.items():
            config = {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [
                    {
                        "name": "local",
                        "cluster": {"server": self.server, "certificate-authority": str(self.ca_file)},
                    }
                ],
                "users": [{"name": user, "user": {"token": token}}],
                "contexts": [
                    {"name": user, "context": {"cluster": "local", "user": user, "namespace": "default"}}
                ],
                "current-context": user,
            }
            self.kubeconfig_path(user).write_text(yaml.safe_dump(config))

    def _spawn(self, name: str, args: list[str]) -> None:
        self._commands[name] = args
        command = [str(self.bin_dir / name), *args, *self.extra_args.get(name, [])]
        with (self.workdir / f"{name}.log").open("ab") as log:  # a restart appends to the same log
            self._processes[name] = subprocess.Popen(  # noqa: S603
                command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )

    def pid(self, name: str) -> int:
        return self._processes[name].pid

    def kill(self, name: str) -> None:
        """SIGKILL one component ("etcd" or "kube-apiserver"), as a crash or an OOM kill would.

        `restart(name)` brings it back with the same flags, ports and data directory.
        """
        process = self._processes.pop(name)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    def restart(self, name: str) -> None:
        """Start a killed component again on the same ports and data; returns once the API server is ready."""
        if name in self._processes:
            raise ControlPlaneError(f"{name} is still running; kill it first")
        self._spawn(name, self._commands[name])
        self._wait_ready()

    def _wait_ready(self) -> None:
        context = ssl.create_default_context(cafile=str(self.ca_file))
        request = urllib.request.Request(  # noqa: S310 - loopback https
            f"{self.server}/readyz", headers={"Authorization": f"Bearer {self.tokens[ADMIN_USER]}"}
        )
        deadline = time.monotonic() + READY_TIMEOUT
        last_error = "no answer"
        while time.monotonic() < deadline:
            for process in self._processes.values():
                if process.poll() is not None:
                    raise ControlPlaneError(
                        f"{Path(str(cast(list[str], process.args)[0])).name} exited with {process.returncode}; "
                        f"its log is in {self.workdir}:\n{self.tail_logs()}"
                    )
            try:
                with urllib.request.urlopen(request, context=context, timeout=2) as response:  # noqa: S310
                    if response.status == 200:
                        return
            except OSError as exc:
                last_error = str(exc)
            time.sleep(0.2)  # polling a process we just started: there is no event to await
        raise ControlPlaneError(
            f"kube-apiserver not ready after {READY_TIMEOUT}s ({last_error}):\n{self.tail_logs()}"
        )

    def tail_logs(self, lines: int = 20) -> str:
        out = []
        for log in sorted(self.workdir.glob("*.log")):
            text = log.read_text(errors="replace").splitlines()[-lines:]
            out.append(f"--- {log.name}\n" + "\n".join(text))
        return "\n".join(out)

    def boot(self) -> None:
        _make_certificates(self.workdir / "pki")
        self.tokens = {ADMIN_USER: os.urandom(16).hex(), UNPRIVILEGED_USER: os.urandom(16).hex()}
        (self.workdir / "tokens.csv").write_text(
            f'{self.tokens[ADMIN_USER]},{ADMIN_USER},uid-admin,"system:masters"\n'
            f"{self.tokens[UNPRIVILEGED_USER]},{UNPRIVILEGED_USER},uid-alice\n"
        )
        etcd_port, peer_port = free_port(), free_port()
        self.api_port = free_port()
        self._spawn(
            "etcd",
            [
                f"--data-dir={self.workdir / 'etcd'}",
                f"--listen-client-urls=http://127.0.0.1:{etcd_port}",
                f"--advertise-client-urls=http://127.0.0.1:{etcd_port}",
                f"--listen-peer-urls=http://127.0.0.1:{peer_port}",
                f"--initial-advertise-peer-urls=http://127.0.0.1:{peer_port}",
                f"--initial-cluster=default=http://127.0.0.1:{peer_port}",
                "--unsafe-no-fsync",
                "--log-level=warn",
            ],
        )
        pki = self.workdir / "pki"
        self._spawn(
            "kube-apiserver",
            [
                f"--etcd-servers=http://127.0.0.1:{etcd_port}",
                "--bind-address=127.0.0.1",
                "--advertise-address=127.0.0.1",
                f"--secure-port={self.api_port}",
                f"--tls-cert-file={pki / 'apiserver.crt'}",
                f"--tls-private-key-file={pki / 'apiserver.key'}",
                f"--client-ca-file={pki / 'ca.crt'}",
                "--service-cluster-ip-range=10.0.0.0/24",
                f"--service-account-issuer=https://127.0.0.1:{self.api_port}",
                f"--service-account-key-file={pki / 'sa.key'}",
                f"--service-account-signing-key-file={pki / 'sa.key'}",
                "--authorization-mode=RBAC",
                f"--token-auth-file={self.workdir / 'tokens.csv'}",
                "--disable-admission-plugins=ServiceAccount",
                "--enable-priority-and-fairness=false",
                "--v=0",
            ],
        )
        self._write_kubeconfigs()
        self._wait_ready()

    def stop(self) -> None:
        # One at a time, apiserver first: an apiserver whose etcd is gone retries instead of exiting.
        for name in reversed(COMPONENTS):
            process = self._processes.get(name)
            if process is None:
                continue
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)
        self._processes.clear()


@contextlib.contextmanager
def start(
    workdir: Path | None = None, *, keep: bool = False, extra_args: dict[str, list[str]] | None = None
) -> Iterator[ControlPlane]:
    """Start a control plane in a fresh temp directory; stop it and remove the directory on exit."""
    bin_dir = ensure_binaries()
    owned = workdir is None
    path = Path(tempfile.mkdtemp(prefix="cloudmodel-cp-")) if workdir is None else workdir
    path.mkdir(parents=True, exist_ok=True)
    plane = ControlPlane(bin_dir=bin_dir, workdir=path, extra_args=dict(extra_args or {}))
    try:
        plane.boot()
        yield plane
    finally:
        plane.stop()
        if owned and not keep:
            shutil.rmtree(path, ignore_errors=True)
