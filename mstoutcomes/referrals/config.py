"""A site's referral rules, read from ``referrals/config/<SITE CODE>.toml`` (or ``default.toml``).

Pure Python (tomllib, dataclasses): the eligibility, complexity, capacity and case-mix modules
take a ``SiteRules`` and never read files or the database themselves. A bad file raises
ConfigError naming the file and the key when it is loaded, not when a referral uses the rule.
"""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from mstoutcomes.referrals import codes

CONFIG_DIR = Path(__file__).parent / "config"
CODE_KINDS = ("behaviours", "risks", "statuses", "exclusions")
_KNOWN_CODES = {
    "behaviours": codes.BEHAVIOURS,
    "risks": codes.RISKS,
    "statuses": codes.STATUSES,
    "exclusions": codes.EXCLUSIONS,
}


class ConfigError(ValueError):
    """A site's referral configuration is missing or wrong."""


@dataclass(frozen=True)
class Condition:
    """Met when any listed code of any kind is recorded, or any count reaches its number."""

    any_codes: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (kind, codes)
    counts_at_least: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class Criterion:
    code: str
    text: str
    when: Condition


@dataclass(frozen=True)
class EligibilityRules:
    min_age: int
    max_age: int
    min_severity: int
    min_general: int
    severity: tuple[Criterion, ...]
    general: tuple[Criterion, ...]
    exclusions: tuple[Criterion, ...]


@dataclass(frozen=True)
class Weight:
    """Points for a fact: a code present (kind, code) or a count (points per unit, capped)."""

    label: str
    points: float
    kind: str = ""  # behaviours, risks, statuses, or "" for a count
    code: str = ""
    count: str = ""
    cap: int = 0


@dataclass(frozen=True)
class ComplexityRules:
    medium_from: float
    higher_from: float
    weights: tuple[Weight, ...]


@dataclass(frozen=True)
class SiteRules:
    """Everything a site sets about referrals."""

    source: str
    version: str  # hash of the file, stored with every result computed from it
    trial_site: bool
    eligibility: EligibilityRules
    complexity: ComplexityRules
    default_caseload_cap: int
    expected_episode_months: int
    case_mix_window_months: int
    target_mix: dict[str, float]
    mix_tolerance: float
    agency_skew_share: float
    agency_skew_min_referrals: int


def _need(table: dict[str, Any], key: str, source: str, where: str) -> Any:
    if key not in table:
        raise ConfigError(f"{source}: {where} is missing '{key}'.")
    return table[key]


def _condition(raw: dict[str, Any], source: str, where: str) -> Condition:
    any_codes = []
    counts = []
    for key, value in raw.items():
        if key.endswith("_any") and key.removesuffix("_any") in CODE_KINDS:
            kind = key.removesuffix("_any")
            unknown = sorted(set(value) - set(_KNOWN_CODES[kind]))
            if unknown:
                raise ConfigError(f"{source}: {where} names unknown {kind}: {', '.join(unknown)}.")
            any_codes.append((kind, tuple(value)))
        elif key == "count_at_least":
            for name, n in value.items():
                if name not in codes.HISTORY_COUNTS:
                    raise ConfigError(f"{source}: {where} counts unknown history '{name}'.")
                counts.append((name, int(n)))
        else:
            raise ConfigError(f"{source}: {where} has an unknown condition '{key}'.")
    if not any_codes and not counts:
        raise ConfigError(f"{source}: {where} has an empty condition.")
    return Condition(tuple(any_codes), tuple(counts))


def _criteria(raw: list[dict[str, Any]], source: str, section: str) -> tuple[Criterion, ...]:
    found = []
    for n, item in enumerate(raw, start=1):
        where = f"[[{section}]] number {n}"
        found.append(
            Criterion(
                code=str(_need(item, "code", source, where)),
                text=str(_need(item, "text", source, where)),
                when=_condition(_need(item, "when", source, where), source, where),
            )
        )
    return tuple(found)


def _weights(raw: list[dict[str, Any]], source: str) -> tuple[Weight, ...]:
    found = []
    for n, item in enumerate(raw, start=1):
        where = f"[[complexity.weights]] number {n}"
        points = float(_need(item, "points", source, where))
        if "count" in item:
            name = item["count"]
            if name not in codes.HISTORY_COUNTS:
                raise ConfigError(f"{source}: {where} counts unknown history '{name}'.")
            label = item.get("label", codes.HISTORY_COUNTS[name])
            found.append(Weight(label, points, count=name, cap=int(item.get("cap", 0))))
        else:
            kind = _need(item, "kind", source, where)
            code = _need(item, "code", source, where)
            if kind not in _KNOWN_CODES or code not in _KNOWN_CODES[kind]:
                raise ConfigError(f"{source}: {where} names unknown {kind} '{code}'.")
            found.append(Weight(item.get("label", _KNOWN_CODES[kind][code]), points, kind, code))
    return tuple(found)


def parse_rules(text: str, *, source: str = "<text>") -> SiteRules:
    """Parse a site's TOML configuration into rules, or raise ConfigError saying what is wrong."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{source}: not valid TOML ({error}).") from None
    elig = _need(raw, "eligibility", source, "the file")
    comp = _need(raw, "complexity", source, "the file")
    cap = raw.get("capacity", {})
    mix = raw.get("case_mix", {})
    target = {band: float(share) for band, share in mix.get("target", {}).items()}
    if target and (set(target) != set(codes.BANDS) or abs(sum(target.values()) - 1) > 0.001):
        raise ConfigError(f"{source}: case_mix.target needs lower, medium and higher summing to 1.")
    default_cap = int(cap.get("default_caseload_cap", 5))
    if not 4 <= default_cap <= 6:
        raise ConfigError(f"{source}: capacity.default_caseload_cap must be 4 to 6 families.")
    rules = SiteRules(
        source=source,
        version=hashlib.sha256(text.encode()).hexdigest()[:12],
        trial_site=bool(raw.get("trial_site", False)),
        eligibility=EligibilityRules(
            min_age=int(_need(elig, "min_age", source, "[eligibility]")),
            max_age=int(_need(elig, "max_age", source, "[eligibility]")),
            min_severity=int(elig.get("min_severity", 0)),
            min_general=int(elig.get("min_general", 0)),
            severity=_criteria(elig.get("severity", []), source, "eligibility.severity"),
            general=_criteria(elig.get("general", []), source, "eligibility.general"),
            exclusions=_criteria(elig.get("exclusions", []), source, "eligibility.exclusions"),
        ),
        complexity=ComplexityRules(
            medium_from=float(_need(comp, "medium_from", source, "[complexity]")),
            higher_from=float(_need(comp, "higher_from", source, "[complexity]")),
            weights=_weights(comp.get("weights", []), source),
        ),
        default_caseload_cap=default_cap,
        expected_episode_months=int(cap.get("expected_episode_months", 4)),
        case_mix_window_months=int(mix.get("window_months", 6)),
        target_mix=target or {"lower": 0.3, "medium": 0.4, "higher": 0.3},
        mix_tolerance=float(mix.get("tolerance", 0.1)),
        agency_skew_share=float(mix.get("agency_skew_share", 0.6)),
        agency_skew_min_referrals=int(mix.get("agency_skew_min_referrals", 4)),
    )
    if rules.complexity.medium_from >= rules.complexity.higher_from:
        raise ConfigError(f"{source}: complexity.medium_from must be below higher_from.")
    return rules


def config_path(site_code: str, directory: Path = CONFIG_DIR) -> Path:
    """Return the site's own file if there is one, else the default."""
    own = directory / f"{site_code}.toml"
    return own if own.exists() else directory / "default.toml"


@lru_cache(maxsize=32)
def _load(path: Path, mtime: float) -> SiteRules:
    return parse_rules(path.read_text(encoding="utf-8"), source=path.name)


def rules_for_site(site_code: str, directory: Path = CONFIG_DIR) -> SiteRules:
    """Return a site's rules (re-read when the file changes)."""
    path = config_path(site_code, directory)
    if not path.exists():
        raise ConfigError(f"No referral configuration: expected {path}.")
    return _load(path, path.stat().st_mtime)
