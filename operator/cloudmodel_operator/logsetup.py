"""The one logging setup shared by `run`, `sandbox`, `simulate` and `probe`."""

from __future__ import annotations

import logging
import sys

FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"

# httpx/httpcore log every request at INFO; provider calls are already counted and timed in
# /metrics, so at INFO those lines would only bury the operator's own.
QUIETED = ("httpx", "httpcore")
# hpack logs each HTTP/2 header block it encodes, the API server token's Authorization header
# included (Huffman-coded, which decodes): never, whatever the level.
SILENCED = ("hpack",)


def configure(level: int | str = logging.INFO, fmt: str = FORMAT) -> None:
    logging.basicConfig(level=level, format=fmt, stream=sys.stderr)
    numeric = logging.getLevelName(level) if isinstance(level, str) else level
    if isinstance(numeric, int) and numeric >= logging.INFO:  # --log-level debug keeps them
        for name in QUIETED:
            logging.getLogger(name).setLevel(logging.WARNING)
    for name in SILENCED:
        logging.getLogger(name).setLevel(logging.WARNING)
