"""Stratified permuted blocks with randomly varying sizes, generated from a secret key.

A stratum's list is an endless deterministic sequence: block after block, each of a size drawn
from the configured sizes and shuffled, all from HMAC-SHA256 keyed by the trial's allocation key.
The database never stores upcoming arms; a slot's arm is computed when it is used, and extending
a list is taking more of the same sequence, so earlier slots never change. A statistician can
regenerate the list with the key and check it against the recorded checksum.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

from mstoutcomes.trial.config import TrialSpec
from mstoutcomes.trial.drbg import Drbg


def stratum_blocks(
    spec: TrialSpec, *, key: bytes, list_id: str, stratum: str
) -> Iterator[list[str]]:
    """Yield the blocks of a stratum's list, in order, for ever."""
    drbg = Drbg(key, f"blocks|{spec.code}|{list_id}|{stratum}")
    sizes = spec.block_sizes
    while True:
        multiple = sizes[drbg.randbelow(len(sizes))] // spec.ratio_sum
        block = [arm.code for arm in spec.arms for _ in range(arm.ratio * multiple)]
        drbg.shuffle(block)
        yield block


def stratum_arms(
    spec: TrialSpec, *, key: bytes, list_id: str, stratum: str, length: int
) -> list[str]:
    """Return the first `length` arms of a stratum's list."""
    arms: list[str] = []
    for block in stratum_blocks(spec, key=key, list_id=list_id, stratum=stratum):
        arms.extend(block)
        if len(arms) >= length:
            return arms[:length]
    raise AssertionError("unreachable")  # pragma: no cover


def arm_at(spec: TrialSpec, *, key: bytes, list_id: str, stratum: str, sequence: int) -> str:
    """Return the arm of one slot (1-based), revealing nothing about later slots."""
    if sequence < 1:
        raise ValueError("Slots are numbered from 1.")
    return stratum_arms(spec, key=key, list_id=list_id, stratum=stratum, length=sequence)[-1]


def list_checksum(spec: TrialSpec, *, key: bytes, list_id: str, lengths: dict[str, int]) -> str:
    """Return the SHA-256 of every stratum's list up to its length, in a documented format.

    Each line is ``stratum<TAB>slot<TAB>arm``; strata in sorted order, slots from 1.
    """
    digest = hashlib.sha256()
    for stratum in sorted(lengths):
        arms = stratum_arms(
            spec, key=key, list_id=list_id, stratum=stratum, length=lengths[stratum]
        )
        for slot, arm in enumerate(arms, start=1):
            digest.update(f"{stratum}\t{slot}\t{arm}\n".encode())
    return digest.hexdigest()
