"""Where a resource's requests, and the credentials they carry, may go.

A user who can create a CloudModelService must not be able to aim the operator's signed requests,
its bearer tokens or an IAM password at a host of their choosing. `spec.endpoint` is accepted only
when it is one of the provider's own published API base URLs (each provider package lists them:
`Provider.official_base_urls`), or when it fully matches an `--allow-endpoint` pattern the
operator was started with. The registrable domain is not enough: anyone can own a host under
`aliyuncs.com` (an OSS bucket) or `myhuaweicloud.com` (an OBS bucket).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from urllib.parse import SplitResult, urlsplit

from cloudmodel_operator.providers.base import EndpointNotAllowed, Provider

__all__ = ["EndpointNotAllowed", "EndpointPolicy"]

# What a base URL may contain at all: no userinfo, query or fragment, no escapes or spaces.
_PLAIN_PATH = re.compile(r"(?:/[A-Za-z0-9._~-]+)*/?")


def _shown(parts: SplitResult) -> str:
    """The URL for a message, without userinfo (it may hold a password)."""
    host = parts.hostname or ""
    number = _port(parts)
    port = "" if number is None else f":{number}" if number >= 0 else ":?"
    return f"{parts.scheme}://{host}{port}{parts.path}"


def _port(parts: SplitResult) -> int | None:
    try:
        return parts.port
    except ValueError:
        return -1


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def _unusable(url: str, parts: SplitResult) -> str | None:
    """Why `url` cannot be a base URL at all, whoever allows it."""
    if not url.isascii() or any(c.isspace() or c in "\\%" for c in url):
        return "it contains spaces, escapes or non-ASCII characters"
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return "it is not an http(s) URL with a host"
    if "@" in parts.netloc:
        return "it carries user information"
    if parts.query or parts.fragment or "?" in url or "#" in url:
        return "it has a query or a fragment"
    if not _PLAIN_PATH.fullmatch(parts.path):
        return "its path is not plain"
    if _port(parts) == -1:
        return "its port is not a number"
    return None


def _official_form(parts: SplitResult) -> tuple[str | None, str | None]:
    """(the canonical https base URL, None) or (None, why it cannot be an official one)."""
    host = (parts.hostname or "").lower()
    if parts.scheme != "https":
        return None, "it is not https"
    if _is_ip(host):
        return None, "its host is an IP address"
    if _port(parts) not in (None, 443):
        return None, "it names a port other than 443"
    if parts.path not in ("", "/"):
        return None, "it has a path"
    return f"https://{host}", None


class EndpointPolicy:
    def __init__(self, allow_patterns: Iterable[str] = ()) -> None:
        self.allow = [re.compile(pattern) for pattern in allow_patterns]

    def resolve(self, provider: Provider, region: str, override: str | None) -> str:
        """The base URL to call for a target: the provider's own for `region`, or `override` when
        it is one of the provider's official base URLs or explicitly allowed; else
        `EndpointNotAllowed` saying why."""
        if not override:
            return provider.default_base_url(region)
        parts = urlsplit(override)
        problem = _unusable(override, parts)
        if problem is None:
            candidate = override[:-1] if override.endswith("/") else override
            if any(pattern.fullmatch(candidate) for pattern in self.allow):
                return candidate
            official, problem = _official_form(parts)
            if official is not None and provider.is_official(official):
                return official
        shown = _shown(parts) if parts.scheme and parts.hostname else "the endpoint"
        examples = ", ".join(sorted(provider.official_base_urls())[:2])
        reason = f": {problem}" if problem else ""
        raise EndpointNotAllowed(
            f"{shown} is not an official {provider.name} API base URL (e.g. {examples}){reason}; "
            "start the operator with --allow-endpoint to permit another"
        )
