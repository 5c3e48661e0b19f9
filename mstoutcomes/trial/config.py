"""Trial configuration: read from a TOML file, validated, without Django.

Example (mstoutcomes/trial/config/start-demo.toml)::

    code = "START-DEMO"
    title = "MST versus management as usual"
    registration = "ISRCTN00000000"
    method = "minimisation"            # or "blocks"
    test_mode = false

    [[arms]]                           # the first arm is the reference arm
    code = "MAU"
    name = "Management as usual"
    ratio = 1

    [[arms]]
    code = "MST"
    name = "Multisystemic Therapy"
    ratio = 1

    [[factors]]
    name = "site"
    categories = ["TRF", "STK"]

    [[factors]]
    name = "age_band"
    categories = ["11-13", "14-15", "16-17"]

    [blocks]
    multiples = [1, 2, 3]              # block sizes are these multiples of the ratio sum

    [recruitment]
    target_per_site_month = 2
    max_wait_days = 14                 # longest wait for a therapist after randomisation to MST

    [minimisation]
    imbalance = "range"                # or "variance"
    weights = { site = 1.0, sex = 1.0, age_band = 1.0 }
    p_preferred = 0.8
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class TrialConfigError(ValueError):
    """The trial configuration is invalid; the message names the setting."""


@dataclass(frozen=True)
class Arm:
    code: str
    name: str
    ratio: int


@dataclass(frozen=True)
class Factor:
    name: str
    categories: tuple[str, ...]


@dataclass(frozen=True)
class TrialSpec:
    code: str
    title: str
    registration: str
    method: str
    arms: tuple[Arm, ...]
    factors: tuple[Factor, ...]
    block_multiples: tuple[int, ...] = (1, 2, 3)
    imbalance: str = "range"
    weights: dict[str, float] = field(default_factory=dict)
    p_preferred: float = 0.8
    test_mode: bool = False
    target_per_site_month: int = 0
    # The longest a family randomised to MST should wait for a therapist (the randomise page
    # warns when the next free place is further away).
    max_wait_days: int = 14

    @property
    def mst_share(self) -> float:
        """The share of families the allocation ratio sends to MST (every arm but the reference)."""
        return 1 - self.reference_arm.ratio / self.ratio_sum

    @property
    def arm_codes(self) -> tuple[str, ...]:
        return tuple(arm.code for arm in self.arms)

    @property
    def reference_arm(self) -> Arm:
        return self.arms[0]

    @property
    def ratio_sum(self) -> int:
        return sum(arm.ratio for arm in self.arms)

    @property
    def block_sizes(self) -> tuple[int, ...]:
        return tuple(m * self.ratio_sum for m in self.block_multiples)

    def factor(self, name: str) -> Factor:
        for candidate in self.factors:
            if candidate.name == name:
                return candidate
        raise KeyError(name)

    def stratum_of(self, levels: dict[str, str]) -> str:
        """Return the stratum key for a participant's factor levels, checking each level."""
        self.check_levels(levels)
        return "|".join(f"{f.name}={levels[f.name]}" for f in self.factors)

    def check_levels(self, levels: dict[str, str]) -> None:
        for factor in self.factors:
            if factor.name not in levels:
                raise TrialConfigError(f"The participant has no value for factor {factor.name!r}.")
            if levels[factor.name] not in factor.categories:
                raise TrialConfigError(
                    f"{levels[factor.name]!r} is not a category of factor {factor.name!r} "
                    f"(expected one of {', '.join(factor.categories)})."
                )

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "title": self.title,
            "registration": self.registration,
            "method": self.method,
            "test_mode": self.test_mode,
            "arms": [{"code": a.code, "name": a.name, "ratio": a.ratio} for a in self.arms],
            "factors": [{"name": f.name, "categories": list(f.categories)} for f in self.factors],
            "blocks": {"multiples": list(self.block_multiples)},
            "minimisation": {
                "imbalance": self.imbalance,
                "weights": dict(self.weights),
                "p_preferred": self.p_preferred,
            },
            "recruitment": {
                "target_per_site_month": self.target_per_site_month,
                "max_wait_days": self.max_wait_days,
            },
        }


def _require(data: dict[str, Any], key: str, kind: type, where: str) -> Any:
    if key not in data:
        raise TrialConfigError(f"{where}: {key!r} is missing.")
    value = data[key]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise TrialConfigError(f"{where}: {key!r} must be {kind.__name__}, not {value!r}.")
    return value


def _arms(data: dict[str, Any]) -> tuple[Arm, ...]:
    raw = _require(data, "arms", list, "trial")
    if len(raw) < 2:
        raise TrialConfigError("trial: at least two [[arms]] are needed.")
    arms = []
    for n, item in enumerate(raw, start=1):
        where = f"arms #{n}"
        ratio = _require(item, "ratio", int, where) if "ratio" in item else 1
        if ratio < 1:
            raise TrialConfigError(f"{where}: 'ratio' must be a positive whole number.")
        arms.append(
            Arm(_require(item, "code", str, where), _require(item, "name", str, where), ratio)
        )
    codes = [a.code for a in arms]
    if len(set(codes)) != len(codes):
        raise TrialConfigError(f"trial: arm codes repeat: {', '.join(codes)}.")
    return tuple(arms)


def _factors(data: dict[str, Any]) -> tuple[Factor, ...]:
    factors = []
    for n, item in enumerate(data.get("factors", []), start=1):
        where = f"factors #{n}"
        categories = _require(item, "categories", list, where)
        if len(categories) < 1 or not all(isinstance(c, str) for c in categories):
            raise TrialConfigError(f"{where}: 'categories' must be a list of text values.")
        if len(set(categories)) != len(categories):
            raise TrialConfigError(f"{where}: categories repeat.")
        factors.append(Factor(_require(item, "name", str, where), tuple(categories)))
    names = [f.name for f in factors]
    if len(set(names)) != len(names):
        raise TrialConfigError(f"trial: factor names repeat: {', '.join(names)}.")
    return tuple(factors)


def parse_trial_config(data: dict[str, Any]) -> TrialSpec:
    """Return a validated TrialSpec from parsed TOML data."""
    method = _require(data, "method", str, "trial")
    if method not in ("blocks", "minimisation"):
        raise TrialConfigError('trial: \'method\' must be "blocks" or "minimisation".')
    arms, factors = _arms(data), _factors(data)
    blocks = data.get("blocks", {})
    multiples = tuple(blocks.get("multiples", [1, 2, 3]))
    if not multiples or not all(isinstance(m, int) and m > 0 for m in multiples):
        raise TrialConfigError("blocks: 'multiples' must be positive whole numbers.")
    mini = data.get("minimisation", {})
    imbalance = mini.get("imbalance", "range")
    if imbalance not in ("range", "variance"):
        raise TrialConfigError('minimisation: \'imbalance\' must be "range" or "variance".')
    p_preferred = float(mini.get("p_preferred", 0.8))
    if not 0.5 <= p_preferred <= 1.0:
        raise TrialConfigError("minimisation: 'p_preferred' must be between 0.5 and 1.")
    weights = {f.name: float(mini.get("weights", {}).get(f.name, 1.0)) for f in factors}
    unknown = set(mini.get("weights", {})) - set(weights)
    if unknown:
        raise TrialConfigError(f"minimisation: weights name unknown factors: {sorted(unknown)}.")
    if any(w < 0 for w in weights.values()):
        raise TrialConfigError("minimisation: weights cannot be negative.")
    target = data.get("recruitment", {}).get("target_per_site_month", 0)
    if not isinstance(target, int) or isinstance(target, bool) or target < 0:
        raise TrialConfigError("recruitment: 'target_per_site_month' must be a whole number ≥ 0.")
    max_wait = data.get("recruitment", {}).get("max_wait_days", 14)
    if not isinstance(max_wait, int) or isinstance(max_wait, bool) or max_wait < 0:
        raise TrialConfigError("recruitment: 'max_wait_days' must be a whole number of days ≥ 0.")
    return TrialSpec(
        target_per_site_month=target,
        max_wait_days=max_wait,
        code=_require(data, "code", str, "trial"),
        title=_require(data, "title", str, "trial"),
        registration=str(data.get("registration", "")),
        method=method,
        arms=arms,
        factors=factors,
        block_multiples=multiples,
        imbalance=imbalance,
        weights=weights,
        p_preferred=p_preferred,
        test_mode=bool(data.get("test_mode", False)),
    )


def load_trial_config(path: Path) -> TrialSpec:
    """Read and validate a trial configuration file."""
    try:
        data = tomllib.loads(path.read_text())
    except OSError as exc:
        raise TrialConfigError(f"{path}: cannot be read: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise TrialConfigError(f"{path}: is not valid TOML: {exc}") from exc
    try:
        return parse_trial_config(data)
    except TrialConfigError as exc:
        raise TrialConfigError(f"{path}: {exc}") from None
