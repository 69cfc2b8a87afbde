"""Who may call the simulator: the scenario's keys, the IAM tokens it issued, Huawei's AK lockout."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cloudmodel_dev.simulator.scenario import Scenario
from cloudmodel_dev.simulator.verifiers import AuthRejected, KeyPair, alibaba, baidu, huawei
from cloudmodel_dev.simulator.verifiers.huawei import IssuedToken
from cloudmodel_operator.providers.signing import RequestParts

# Huawei APIG locks an AK for 5 minutes after 5 consecutive signature failures.
LOCKOUT_FAILURES = 5
LOCKOUT_TIME = timedelta(minutes=5)
LOCKED = AuthRejected(
    401,
    "APIG.0301",
    "Incorrect IAM authentication information: AK access failed to reach the limit,forbidden.",
)


class IamError(Exception):
    """A rejected token request, rendered in IAM's Keystone-style `{"error": {...}}` shape."""

    def __init__(self, status: int, title: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.title = title
        self.message = message

    def document(self) -> dict[str, Any]:
        return {"error": {"code": self.status, "title": self.title, "message": self.message}}


@dataclass
class _Failures:
    consecutive: int = 0
    locked_until: datetime | None = None


class Authenticator:
    def __init__(self, scenario: Scenario, clock: Callable[[], datetime]) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self.enabled = scenario.verifySignatures
        self.token_ttl = scenario.tokenTtl
        accounts = scenario.accounts
        self._alibaba = {a.accessKeyId: KeyPair(a.accessKeySecret, a.securityToken) for a in accounts.alibaba}
        self._huawei = {a.accessKey: KeyPair(a.secretKey, a.securityToken) for a in accounts.huawei}
        self._baidu = {a.accessKey: KeyPair(a.secretKey) for a in accounts.baidu}
        self._users = {(u.domainName, u.username): u.password for u in accounts.huaweiUsers}
        self._tokens: dict[str, IssuedToken] = {}
        self._failures: dict[str, _Failures] = {}

    def secrets_of(self, principal: str) -> list[str]:
        """Every secret the scenario holds for the caller `check` named (for echo faults)."""
        found: list[str] = []
        for table in (self._alibaba, self._huawei, self._baidu):
            pair = table.get(principal)
            if pair is not None:
                found += [pair.secret, *([pair.security_token] if pair.security_token else [])]
        found += [password for (_, user), password in self._users.items() if user == principal]
        return found

    def check(self, cloud: str, parts: RequestParts) -> str:
        """The caller's identity (AK or IAM user), or `AuthRejected` in the cloud's own terms."""
        if not self.enabled:
            return "anonymous"
        now = self._clock()
        if cloud == "alibaba":
            return alibaba.verify(parts, self._alibaba, now)
        if cloud == "baidu":
            return baidu.verify(parts, self._baidu, now)
        token = parts.headers.get("x-auth-token")
        if token and "authorization" not in parts.headers:
            with self._lock:
                return huawei.verify_token(token, dict(self._tokens), now).username
        return self._check_huawei_signature(parts, now)

    def _check_huawei_signature(self, parts: RequestParts, now: datetime) -> str:
        access_key = huawei.access_key_of(parts)
        with self._lock:
            failures = self._failures.get(access_key or "")
            if failures and failures.locked_until and now < failures.locked_until:
                raise LOCKED
        try:
            principal = huawei.verify_signature(parts, self._huawei, now)
        except AuthRejected:
            if access_key in self._huawei:
                with self._lock:
                    record = self._failures.setdefault(access_key, _Failures())
                    record.consecutive += 1
                    if record.consecutive >= LOCKOUT_FAILURES:
                        record.locked_until = now + LOCKOUT_TIME
                        record.consecutive = 0
            raise
        with self._lock:
            self._failures.pop(principal, None)
        return principal

    def issue_token(self, request: Any) -> IssuedToken:
        """Validate an IAM password-identity token request and issue a token."""
        user, password, domain, project = _password_identity(request)
        with self._lock:
            expected = self._users.get((domain, user))
        if expected is None or not secrets.compare_digest(expected, password):
            raise IamError(401, "Unauthorized", "The username or password is wrong.")
        token = IssuedToken(
            username=user,
            project=project,
            expires_at=self._clock() + self.token_ttl,
            value="MIIsandbox" + secrets.token_urlsafe(96),
        )
        with self._lock:
            self._tokens[token.value] = token
        return token

    def tokens(self) -> Mapping[str, IssuedToken]:
        with self._lock:
            return dict(self._tokens)


def _password_identity(request: Any) -> tuple[str, str, str, str | None]:
    def bad(what: str) -> IamError:
        return IamError(400, "Bad Request", f"The request you have made requires {what}.")

    auth = request.get("auth") if isinstance(request, dict) else None
    identity = auth.get("identity") if isinstance(auth, dict) else None
    if not isinstance(identity, dict):
        raise bad("auth.identity")
    methods = identity.get("methods")
    if not isinstance(methods, list) or "password" not in methods:
        raise bad("auth.identity.methods to contain 'password'")
    user = (
        (identity.get("password") or {}).get("user") if isinstance(identity.get("password"), dict) else None
    )
    if not isinstance(user, dict):
        raise bad("auth.identity.password.user")
    name, password, domain = user.get("name"), user.get("password"), user.get("domain")
    domain_name = domain.get("name") if isinstance(domain, dict) else None
    if not isinstance(name, str) or not isinstance(password, str) or not isinstance(domain_name, str):
        raise bad("user name, password and domain name")
    scope = auth.get("scope") if isinstance(auth, dict) else None
    project = scope.get("project") if isinstance(scope, dict) else None
    project_ref = None
    if isinstance(project, dict):
        project_ref = project.get("id") or project.get("name")
    return name, password, domain_name, project_ref if isinstance(project_ref, str) else None
