"""The allocation algorithms, without a database: lists, minimisation, simulation."""

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mstoutcomes.trial.blocks import arm_at, list_checksum, stratum_arms, stratum_blocks
from mstoutcomes.trial.config import TrialConfigError, parse_trial_config
from mstoutcomes.trial.drbg import Drbg
from mstoutcomes.trial.minimisation import imbalance_scores, minimise
from mstoutcomes.trial.simulate import simulate

KEY = b"k" * 40
BASE = {
    "code": "T",
    "title": "Test",
    "method": "blocks",
    "arms": [{"code": "MAU", "name": "Management as usual"}, {"code": "MST", "name": "MST"}],
    "factors": [
        {"name": "site", "categories": ["A", "B"]},
        {"name": "sex", "categories": ["female", "male"]},
    ],
}


def spec_with(**changes):
    return parse_trial_config({**BASE, **changes})


# Configuration


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"method": "coin"}, "'method' must be"),
        ({"arms": [{"code": "A", "name": "a"}]}, "at least two"),
        ({"arms": [{"code": "A", "name": "a"}, {"code": "A", "name": "b"}]}, "arm codes repeat"),
        (
            {"arms": [{"code": "A", "name": "a", "ratio": 0}, {"code": "B", "name": "b"}]},
            "positive whole number",
        ),
        ({"minimisation": {"p_preferred": 0.3}}, "between 0.5 and 1"),
        ({"minimisation": {"imbalance": "max"}}, "'imbalance' must be"),
        ({"minimisation": {"weights": {"postcode": 1}}}, "unknown factors"),
        ({"blocks": {"multiples": [0]}}, "positive whole numbers"),
    ],
)
def test_bad_configuration_is_refused_naming_the_setting(change, message):
    with pytest.raises(TrialConfigError, match=message):
        spec_with(**change)


def test_levels_outside_a_factors_categories_are_refused():
    with pytest.raises(TrialConfigError, match="'C' is not a category of factor 'site'"):
        spec_with().stratum_of({"site": "C", "sex": "male"})


# The random bit generator


def test_drbg_is_deterministic_and_depends_on_key_and_label():
    first = [Drbg(KEY, "a").randbelow(1000) for _ in range(1)]
    assert first == [Drbg(KEY, "a").randbelow(1000)]
    a, b, c = Drbg(KEY, "a"), Drbg(KEY, "b"), Drbg(b"other-key", "a")
    draws = [[g.randbelow(10**9) for _ in range(5)] for g in (a, b, c)]
    assert draws[0] != draws[1] and draws[0] != draws[2]


def test_drbg_randbelow_is_roughly_uniform():
    drbg = Drbg(KEY, "uniform")
    counts = [0] * 6
    for _ in range(6000):
        counts[drbg.randbelow(6)] += 1
    # Each cell expects 1000; 5 standard deviations is about ±150.
    assert all(850 < c < 1150 for c in counts)


# Permuted blocks


def test_every_block_is_balanced_at_its_end_and_sizes_vary():
    spec = spec_with(blocks={"multiples": [1, 2, 3]})
    blocks = list(itertools.islice(stratum_blocks(spec, key=KEY, list_id="L", stratum="s"), 300))
    assert all(b.count("MAU") == b.count("MST") for b in blocks)
    assert {len(b) for b in blocks} == {2, 4, 6}


def test_unequal_ratio_blocks_hold_the_ratio():
    spec = spec_with(
        arms=[{"code": "MAU", "name": "a", "ratio": 1}, {"code": "MST", "name": "b", "ratio": 2}],
        blocks={"multiples": [1, 2]},
    )
    for block in itertools.islice(stratum_blocks(spec, key=KEY, list_id="L", stratum="s"), 100):
        assert block.count("MST") == 2 * block.count("MAU")


@settings(max_examples=25, deadline=None)
@given(st.integers(min_value=1, max_value=120))
def test_extending_a_list_never_changes_earlier_slots(length):
    spec = spec_with()
    short = stratum_arms(spec, key=KEY, list_id="L", stratum="s", length=length)
    longer = stratum_arms(spec, key=KEY, list_id="L", stratum="s", length=length + 37)
    assert longer[:length] == short
    assert arm_at(spec, key=KEY, list_id="L", stratum="s", sequence=length) == short[-1]


def test_lists_differ_by_key_list_and_stratum():
    spec = spec_with()
    base = stratum_arms(spec, key=KEY, list_id="L", stratum="s", length=40)
    assert base != stratum_arms(spec, key=b"x" * 40, list_id="L", stratum="s", length=40)
    assert base != stratum_arms(spec, key=KEY, list_id="M", stratum="s", length=40)
    assert base != stratum_arms(spec, key=KEY, list_id="L", stratum="t", length=40)


def test_checksum_is_stable_and_changes_with_the_list():
    spec = spec_with()
    lengths = {"site=A|sex=male": 20, "site=B|sex=female": 10}
    one = list_checksum(spec, key=KEY, list_id="L", lengths=lengths)
    assert one == list_checksum(spec, key=KEY, list_id="L", lengths=dict(reversed(lengths.items())))
    assert one != list_checksum(
        spec, key=KEY, list_id="L", lengths={**lengths, "site=A|sex=male": 21}
    )
    assert one != list_checksum(spec, key=b"z" * 40, list_id="L", lengths=lengths)


# Minimisation


def test_imbalance_scores_by_hand():
    """Counts: site A has MAU 3, MST 1; males have MAU 2, MST 2. New participant: site A, male.

    Range, weights 1: if MAU, site |4-1|=3 and sex |3-2|=1: 4.
    If MST, site |3-2|=1 and sex |2-3|=1: 2.
    """
    spec = spec_with(method="minimisation")
    counts = {
        "site": {"A": {"MAU": 3, "MST": 1}},
        "sex": {"male": {"MAU": 2, "MST": 2}},
    }
    scores = imbalance_scores(spec, counts, {"site": "A", "sex": "male"})
    assert scores == {"MAU": 4.0, "MST": 2.0}


def test_variance_imbalance_and_weights_by_hand():
    """Variance of (4, 1) is 2.25 and of (3, 2) is 0.25; site weighs 2, sex 1."""
    spec = spec_with(
        method="minimisation",
        minimisation={"imbalance": "variance", "weights": {"site": 2, "sex": 1}},
    )
    counts = {"site": {"A": {"MAU": 3, "MST": 1}}, "sex": {"male": {"MAU": 2, "MST": 2}}}
    scores = imbalance_scores(spec, counts, {"site": "A", "sex": "male"})
    assert scores == {"MAU": pytest.approx(2 * 2.25 + 0.25), "MST": pytest.approx(2 * 0.25 + 0.25)}


def test_preferred_arm_is_given_with_probability_p():
    spec = spec_with(method="minimisation")
    counts = {"site": {"A": {"MAU": 3, "MST": 1}}, "sex": {"male": {"MAU": 2, "MST": 2}}}
    levels = {"site": "A", "sex": "male"}
    assert minimise(spec, counts, levels, draw=0.79, tie_draw=0.5).arm == "MST"
    assert minimise(spec, counts, levels, draw=0.80, tie_draw=0.5).arm == "MAU"


def test_when_no_arm_is_better_the_allocation_is_random_in_ratio():
    spec = spec_with(method="minimisation")
    assert minimise(spec, {}, {"site": "A", "sex": "male"}, draw=0.9, tie_draw=0.2).arm == "MAU"
    assert minimise(spec, {}, {"site": "A", "sex": "male"}, draw=0.1, tie_draw=0.7).arm == "MST"


def test_unequal_ratios_scale_the_counts():
    """With MST:MAU = 2:1, counts MAU 1, MST 2 are balanced; adding to MAU unbalances more."""
    spec = spec_with(
        method="minimisation",
        arms=[{"code": "MAU", "name": "a", "ratio": 1}, {"code": "MST", "name": "b", "ratio": 2}],
        factors=[{"name": "site", "categories": ["A"]}],
    )
    scores = imbalance_scores(spec, {"site": {"A": {"MAU": 1, "MST": 2}}}, {"site": "A"})
    assert scores == {"MAU": pytest.approx(1.0), "MST": pytest.approx(0.5)}


# Simulation


def test_minimisation_with_p_08_keeps_imbalance_within_the_expected_bound():
    """One factor with p = 0.8 is Efron's biased coin within each level.

    Its imbalance |D| is a walk pulled back to 0: from |D| = k ≥ 1 it grows with probability 0.2
    and shrinks with 0.8, so P(|D| ≥ k) falls like 0.25^k. Over 300 trials of 100 participants
    in two levels, a worst-level imbalance of 6 or more has probability of order 0.25^5 per trial,
    so we allow at most a handful, and the mean overall imbalance must be far below simple
    randomisation's sqrt(2n/π) ≈ 8.
    """
    spec = spec_with(method="minimisation", factors=[{"name": "site", "categories": ["A", "B"]}])
    result = simulate(spec, trials=300, participants=100, seed="bound")
    assert sum(w >= 6 for w in result.worst_level_imbalance) <= 3
    assert sum(result.overall_imbalance) / 300 < 2.5


def test_minimisation_balances_better_than_blocks_with_many_strata():
    factors = [
        {"name": "site", "categories": ["A", "B", "C", "D"]},
        {"name": "sex", "categories": ["female", "male"]},
        {"name": "age_band", "categories": ["11-13", "14-15", "16-17"]},
    ]
    mini = simulate(
        spec_with(method="minimisation", factors=factors), trials=100, participants=100, seed="s"
    )
    blocks = simulate(spec_with(factors=factors), trials=100, participants=100, seed="s")
    assert (
        mini.summary.loc["Overall imbalance (participants)", "mean"]
        < blocks.summary.loc["Overall imbalance (participants)", "mean"]
    )


def test_simulation_is_reproducible_from_its_seed():
    spec = spec_with(method="minimisation")
    one = simulate(spec, trials=20, participants=30, seed="same")
    two = simulate(spec, trials=20, participants=30, seed="same")
    assert one.summary.equals(two.summary)
    assert not one.summary.equals(simulate(spec, trials=20, participants=30, seed="other").summary)
