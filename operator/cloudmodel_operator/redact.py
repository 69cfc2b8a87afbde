"""Keep secrets out of status, events and logs.

Two layers: every credential value the operator loads is registered and replaced wherever it
appears, and text that looks like `token=...` / `"apiKey": "..."` / `Bearer ...` is masked even
when the value was never registered (a provider may echo a secret we did not give it).
"""

from __future__ import annotations

import logging
import re
import threading

MASK = "***"
MAX_MESSAGE = 1024

# A pattern of secret-like names, not a secret.
_SECRET_WORDS = (
    r"(?:api[_-]?key|apikey|model[_-]?token|access[_-]?token|token|secret(?:[_-]?key)?|password|passwd|"  # noqa: S105
    r"signature|authorization|credential|security[_-]?token|x-auth-token|x-subject-token)"
)
_PATTERNS = [
    # "apiKey": "value"  /  'token': 'value'
    re.compile(rf"(?i)([\"']?{_SECRET_WORDS}[\"']?\s*[:=]\s*[\"'])([^\"']+)([\"'])"),
    # token=value in query strings and key=value prose
    re.compile(rf"(?i)(\b{_SECRET_WORDS}=)([^&\s,;]+)()"),
    # Authorization headers
    re.compile(r"(?i)(\b(?:Bearer|ACS3-HMAC-SHA256|SDK-HMAC-SHA256)\s+)(\S+)()"),
    re.compile(r"(?i)(bce-auth-v1/)(\S+)()"),
    # Bailian-style API keys
    re.compile(r"()(\bsk-[A-Za-z0-9]{6,})()"),
]

_known: set[str] = set()
_lock = threading.Lock()


def register_secret(value: str | None) -> None:
    """Remember a secret value so it is masked wherever it shows up later."""
    if value and len(value) >= 4:
        with _lock:
            _known.add(value)


def redact(text: str, *, limit: int = MAX_MESSAGE) -> str:
    """Mask secrets in `text` and cap its length (status and event messages stay readable)."""
    with _lock:
        known = sorted(_known, key=len, reverse=True)
    for value in known:
        if value in text:
            text = text.replace(value, MASK)
    for pattern in _PATTERNS:
        text = pattern.sub(lambda m: f"{m.group(1)}{MASK}{m.group(3)}", text)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text


class RedactingFilter(logging.Filter):
    """A logging filter that masks secrets in every record that passes through a handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message, limit=8192)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def install_log_redaction() -> None:
    """Attach the filter to every handler of the root logger (call after logging is configured)."""
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
