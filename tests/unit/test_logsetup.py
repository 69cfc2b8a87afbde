import logging
from collections.abc import Iterator

import pytest

from cloudmodel_operator import logsetup


@pytest.fixture(autouse=True)
def _restore_levels() -> Iterator[None]:
    saved = {name: logging.getLogger(name).level for name in (*logsetup.QUIETED, *logsetup.SILENCED)}
    yield
    for name, level in saved.items():
        logging.getLogger(name).setLevel(level)


@pytest.mark.parametrize("level", ["INFO", logging.INFO, "WARNING"])
def test_per_request_http_lines_are_hidden_at_info_and_above(level: str | int) -> None:
    logsetup.configure(level)
    for name in logsetup.QUIETED:
        assert not logging.getLogger(name).isEnabledFor(logging.INFO)
        assert logging.getLogger(name).isEnabledFor(logging.WARNING)


def test_debug_keeps_per_request_http_lines() -> None:
    for name in logsetup.QUIETED:
        logging.getLogger(name).setLevel(logging.NOTSET)
    logsetup.configure("DEBUG")
    for name in logsetup.QUIETED:
        assert logging.getLogger(name).level == logging.NOTSET


def test_http2_header_encoding_is_never_logged() -> None:
    # hpack logs every header block it encodes at DEBUG: the operator's own API server token is
    # in it (Huffman-coded, which decodes), and nothing in it helps anybody debug the operator.
    logsetup.configure("DEBUG")
    for name in logsetup.SILENCED:
        assert not logging.getLogger(name).isEnabledFor(logging.DEBUG)
        assert logging.getLogger(name).isEnabledFor(logging.WARNING)
