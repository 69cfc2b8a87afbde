"""Where a resource may send signed requests.

A user who can create a CloudModelService must not be able to aim the operator's signed
requests (and its credentials' signatures) at a host of their choosing. Without an explicit
allow-list only https URLs on the provider's own domain are accepted.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit


class EndpointNotAllowed(Exception):
    """The spec's endpoint is outside what the operator was started to allow."""


class EndpointPolicy:
    def __init__(self, allow_patterns: Iterable[str] = ()) -> None:
        self.allow = [re.compile(pattern) for pattern in allow_patterns]

    def resolve(self, override: str | None, default_base_url: str) -> str:
        """The base URL to call: the override when permitted, else the provider default."""
        if not override:
            return default_base_url
        url = override.rstrip("/")
        if any(pattern.fullmatch(url) for pattern in self.allow):
            return url
        parts = urlsplit(url)
        official = _registrable_suffix(urlsplit(default_base_url).hostname or "")
        host = (parts.hostname or "").lower()
        if parts.scheme == "https" and official and (host == official or host.endswith("." + official)):
            return url
        raise EndpointNotAllowed(
            f"endpoint {url} is not an https URL on {official or 'the provider domain'}; "
            "start the operator with --allow-endpoint to permit it"
        )


def _registrable_suffix(host: str) -> str:
    labels = host.lower().split(".")
    return ".".join(labels[-2:]) if len(labels) >= 2 else ""
