"""Server-side signature verifiers, one per cloud, written from each provider's published spec.

They share nothing with the operator's signers on purpose: a bug in a signer cannot hide behind
the same bug here. Each raises `AuthRejected` carrying the provider's own error code, message and
HTTP status; the caller renders it in the provider's error body shape.
"""

from __future__ import annotations

from dataclasses import dataclass, field


class AuthRejected(Exception):
    """The request's credentials or signature are not acceptable."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.status = status
        self.code = code
        self.message = message


@dataclass(frozen=True)
class KeyPair:
    """A secret the simulator knows for an access key (plus the STS token bound to it, if any)."""

    secret: str = field(repr=False)
    security_token: str | None = field(default=None, repr=False)
