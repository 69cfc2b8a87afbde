"""Secrets never reach a status, an event or a log line."""

from __future__ import annotations

import logging

import pytest

from cloudmodel_operator.redact import MASK, RedactingFilter, redact, register_secret


def test_registered_values_are_masked_anywhere() -> None:
    register_secret("unit-registered-secret-value")
    assert redact("auth failed for unit-registered-secret-value!") == f"auth failed for {MASK}!"


def test_too_short_values_are_not_registered() -> None:
    register_secret("abc")
    assert redact("abc abcdef") == "abc abcdef"


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ('{"apiKey": "k-123456789"}', "k-123456789"),
        ("{'ModelToken': 'tok-987654321'}", "tok-987654321"),
        ("GET /x?token=abcdef123456&a=1", "abcdef123456"),
        ("Authorization: Bearer eyJhbGciOi.x.y", "eyJhbGciOi.x.y"),
        ("ACS3-HMAC-SHA256 Credential=LTAI,SignedHeaders=host,Signature=deadbeef", "Signature=deadbeef"),
        ("bce-auth-v1/ak/2026-01-01T00:00:00Z/1800/host/abcdef0123", "ak/2026"),
        ("key is sk-abcdefghijklmnop", "sk-abcdefghijklmnop"),
        ('"password": "hunter2hunter2"', "hunter2hunter2"),
        # Header lists as httpcore logs them at DEBUG (the IAM token arrives in a response header).
        (
            "[(b'X-Subject-Token', b'MIIsandboxAbCd-123_x'), (b'X-Request-Id', b'7b97')]",
            "MIIsandboxAbCd-123_x",
        ),
        ("[(b'x-auth-token', b'MIItoken-4567')]", "MIItoken-4567"),
    ],
)
def test_secret_shaped_text_is_masked_even_unregistered(text: str, secret: str) -> None:
    cleaned = redact(text)
    assert secret not in cleaned
    assert MASK in cleaned


def test_long_messages_are_capped() -> None:
    assert len(redact("x" * 5000)) == 1024


def test_the_log_filter_rewrites_records_with_arguments() -> None:
    register_secret("unit-log-secret-0001")
    record = logging.LogRecord("t", logging.INFO, __file__, 1, "using %s", ("unit-log-secret-0001",), None)
    assert RedactingFilter().filter(record) is True
    assert record.getMessage() == f"using {MASK}"
