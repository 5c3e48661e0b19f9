"""A deterministic random bit generator from HMAC-SHA256, stable across Python versions.

Allocation lists and minimisation draws must be reproducible for the life of a trial (years), so
they do not depend on the `random` module's algorithms, which Python may change.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import MutableSequence
from typing import TypeVar

T = TypeVar("T")


class Drbg:
    """HMAC-SHA256 in counter mode, keyed by a secret and labelled by purpose."""

    def __init__(self, key: bytes, label: str) -> None:
        if not key:
            raise ValueError("The allocation key is empty.")
        self._key = hmac.new(key, label.encode(), hashlib.sha256).digest()
        self._counter = 0
        self._buffer = b""

    def _bytes(self, n: int) -> bytes:
        while len(self._buffer) < n:
            block = hmac.new(self._key, self._counter.to_bytes(8, "big"), hashlib.sha256).digest()
            self._buffer += block
            self._counter += 1
        out, self._buffer = self._buffer[:n], self._buffer[n:]
        return out

    def randbelow(self, n: int) -> int:
        """Return a uniform integer in [0, n) by rejection sampling (no modulo bias)."""
        if n <= 0:
            raise ValueError("n must be positive")
        width = max(1, (n - 1).bit_length())
        nbytes = (width + 7) // 8
        mask = (1 << width) - 1
        while True:
            value = int.from_bytes(self._bytes(nbytes), "big") & mask
            if value < n:
                return value

    def uniform(self) -> float:
        """Return a uniform float in [0, 1) with 53 bits of precision."""
        return (int.from_bytes(self._bytes(7), "big") >> 3) / float(1 << 53)

    def shuffle(self, items: MutableSequence[T]) -> None:
        """Shuffle in place (Fisher–Yates)."""
        for i in range(len(items) - 1, 0, -1):
            j = self.randbelow(i + 1)
            items[i], items[j] = items[j], items[i]
