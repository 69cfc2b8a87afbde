"""Deterministic random request parts for the oracle loops."""

from __future__ import annotations

import random

RESERVED = "!*'();:@&=+$,/?#[]~"
POOL = [*"abcXYZ019-_.", " ", *RESERVED, "中", "文", "é", "%", "\u00a0"]
SAFE_KEY = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.~"


def text(rng: random.Random, *, min_len: int = 0, max_len: int = 12) -> str:
    return "".join(rng.choice(POOL) for _ in range(rng.randint(min_len, max_len)))


def key(rng: random.Random) -> str:
    return "".join(rng.choice(SAFE_KEY) for _ in range(rng.randint(1, 10)))


def query(rng: random.Random) -> dict[str, str]:
    return {key(rng): text(rng) for _ in range(rng.randint(0, 4))}


def segments(rng: random.Random) -> list[str]:
    return [text(rng, min_len=1) for _ in range(rng.randint(0, 3))]


def body(rng: random.Random, method: str) -> bytes:
    if method in ("GET", "DELETE") or rng.random() < 0.3:
        return b""
    return ('{"instanceId": "' + text(rng) + '"}').encode()
