"""Savings, cost-effectiveness and sensitivity: hand-worked numbers, seeds and CI coverage."""

import numpy as np
import pandas as pd
import pytest

from mstoutcomes.costs.costing import (
    BudgetHolder,
    PriceIndex,
    ProgrammeCost,
    Unit,
    UnitCost,
    build_catalogue,
)
from mstoutcomes.costs.economics import (
    BEFORE_AFTER_WARNING,
    CostModel,
    before_after,
    bootstrap_mean_ci,
    break_even,
    compare_arms,
    cost_effectiveness,
    one_way,
    probabilistic,
)

INDEX = PriceIndex("flat", {"2022-23": 100.0})


@pytest.fixture
def catalogue():
    return build_catalogue(
        [
            UnitCost(
                "home",
                "Children's home",
                365_000.0,
                Unit.YEAR,
                "2022-23",
                BudgetHolder.LA_CHILDRENS,
                low=182_500.0,
                high=365_000.0,
            ),
            UnitCost(
                "offence",
                "Offence",
                500.0,
                Unit.EVENT,
                "2022-23",
                BudgetHolder.POLICE,
                low=250.0,
                high=1_000.0,
            ),
        ],
        index=INDEX,
        price_year="2022-23",
    )


@pytest.fixture
def model(catalogue):
    # Units: years in a children's home, offences. Two MST and two MAU young people.
    # MAU: 0.1 y + 4 offences (£36,500 + £2,000); 0.0 y + 2 offences (£1,000) -> mean £19,750.
    # MST: 0.02 y + 1 offence (£7,300 + £500); 0 + 0 -> mean £3,900, plus MST £5,000 each.
    units = pd.DataFrame(
        {"home": [0.1, 0.0, 0.02, 0.0], "offence": [4, 2, 1, 0]},
        index=["c1", "c2", "t1", "t2"],
        dtype=float,
    )
    programme = ProgrammeCost(price_year="2022-23", per_family=5_000.0)
    received = pd.Series({"t1": True, "t2": True})
    return CostModel.from_units(units, catalogue, list(units.index)).with_programme(
        programme, received
    )


ARMS = pd.Series({"c1": "MAU", "c2": "MAU", "t1": "MST", "t2": "MST"})
EFFECTS = pd.DataFrame(
    {"placed": [1, 0, 1, 0], "offences": [4, 2, 1, 0]}, index=["c1", "c2", "t1", "t2"]
)


def test_arm_comparison_by_budget_holder_is_hand_worked(model):
    result = compare_arms(model, ARMS, treatment="MST", control="MAU", effects=EFFECTS, n_boot=200)
    table = result.summary
    # Children's services: MAU 18,250; MST 3,650 on placements + 5,000 programme.
    la = table.loc["la_childrens_services"]
    assert la["mean_MAU"] == pytest.approx(18_250)
    assert la["mean_MST_services"] == pytest.approx(3_650)
    assert la["mean_MST_mst"] == pytest.approx(5_000)
    assert la["net_saving"] == pytest.approx(18_250 - 8_650)
    assert table.loc["police", "net_saving"] == pytest.approx(1_500 - 250)
    total = result.total
    assert total["net_saving"] == pytest.approx(19_750 - 8_900)
    assert total["ci_low"] <= total["net_saving"] <= total["ci_high"]
    assert result.effects.loc["offences", "avoided"] == pytest.approx(2.5)
    assert result.n == {"MST": 2, "MAU": 2}


def test_the_same_seed_gives_the_same_results_and_another_seed_does_not(model):
    def run(seed):
        comparison = compare_arms(
            model, ARMS, treatment="MST", control="MAU", effects=EFFECTS, n_boot=300, seed=seed
        )
        return comparison, probabilistic(comparison, seed=seed)

    (a, pa), (b, pb), (c, _) = run(7), run(7), run(8)
    pd.testing.assert_frame_equal(a.summary, b.summary)
    np.testing.assert_array_equal(pa.draws, pb.draws)
    pd.testing.assert_frame_equal(a.unit_replicates, b.unit_replicates)
    assert not a.unit_replicates.equals(c.unit_replicates)


def test_bootstrap_ci_of_a_mean_covers_at_about_its_nominal_rate():
    # 400 samples of 60 from an exponential with mean 10 (skewed, like costs): a 95% percentile
    # bootstrap interval should hold the true mean in about 95% of them (binomial SD ~1.1%;
    # the percentile method runs a little narrow at n=60, so allow 90-98%).
    rng = np.random.default_rng(12345)
    covered = 0
    for k in range(400):
        sample = rng.exponential(10.0, size=60)
        _, low, high = bootstrap_mean_ci(sample, n_boot=500, seed=k)
        covered += low <= 10.0 <= high
    assert 0.90 <= covered / 400 <= 0.98


def test_arm_difference_ci_covers_a_known_difference():
    rng = np.random.default_rng(99)
    catalogue = build_catalogue(
        [UnitCost("x", "x", 1.0, Unit.EVENT, "2022-23", BudgetHolder.POLICE)],
        index=INDEX,
        price_year="2022-23",
    )
    covered = 0
    for k in range(200):
        units = pd.DataFrame(
            {"x": np.r_[rng.gamma(2, 50, 50), rng.gamma(2, 40, 50)]},
            index=[f"p{i}" for i in range(100)],
        )
        arms = pd.Series(["MAU"] * 50 + ["MST"] * 50, index=units.index)
        model = CostModel.from_units(units, catalogue, list(units.index))
        total = compare_arms(model, arms, treatment="MST", control="MAU", n_boot=400, seed=k).total
        covered += total["ci_low"] <= 20.0 <= total["ci_high"]  # true saving 100 - 80
    assert 0.89 <= covered / 200 <= 0.99


def test_icer_per_offence_avoided_and_acceptability(model):
    comparison = compare_arms(
        model, ARMS, treatment="MST", control="MAU", effects=EFFECTS, n_boot=500
    )
    ce = cost_effectiveness(comparison, "offences", thresholds=[0, 1_000_000])
    # MST saves 10,850 and avoids 2.5 offences: it dominates, so no ICER is quoted.
    assert ce.incremental_cost == pytest.approx(-10_850)
    assert ce.icer is None
    assert ce.verdict.startswith("MST dominates")
    assert len(ce.plane) == 500
    # At a threshold of 0 the curve is the share of replicates in which MST saved money.
    assert ce.acceptability["probability"].iloc[0] == pytest.approx(
        (ce.plane["incremental_cost"] < 0).mean()
    )


def test_icer_is_cost_over_effect_when_mst_costs_more(catalogue):
    units = pd.DataFrame({"offence": [2.0, 2.0, 1.0, 1.0]}, index=["c1", "c2", "t1", "t2"])
    model = CostModel.from_units(units, catalogue, list(units.index)).with_programme(
        ProgrammeCost(price_year="2022-23", per_family=5_000.0), pd.Series({"t1": True, "t2": True})
    )
    effects = pd.DataFrame({"offences": [2, 2, 1, 1]}, index=units.index)
    comparison = compare_arms(model, ARMS, treatment="MST", control="MAU", effects=effects)
    ce = cost_effectiveness(comparison, "offences")
    # Extra cost 5,000 - 500 = 4,500 for one offence avoided.
    assert ce.icer == pytest.approx(4_500)


def test_tornado_moves_the_saving_by_the_difference_in_use_times_the_range(model):
    comparison = compare_arms(model, ARMS, treatment="MST", control="MAU", n_boot=50)
    tornado = one_way(comparison)
    assert tornado.base == pytest.approx(10_850)
    home = tornado.summary.set_index("item").loc["home"]
    # MAU used 0.04 years more; at £182,500 a year the saving falls by 0.04 x 182,500 = 7,300.
    assert home["saving_at_low"] == pytest.approx(10_850 - 7_300)
    assert home["saving_at_high"] == pytest.approx(10_850)
    assert tornado.summary["swing"].is_monotonic_decreasing


def test_probabilistic_saving_is_centred_near_the_point_estimate_with_fixed_use(catalogue):
    units = pd.DataFrame({"offence": [3.0] * 50 + [1.0] * 50}, index=[f"p{i}" for i in range(100)])
    arms = pd.Series(["MAU"] * 50 + ["MST"] * 50, index=units.index)
    model = CostModel.from_units(units, catalogue, list(units.index))
    psa = probabilistic(compare_arms(model, arms, treatment="MST", control="MAU"), seed=3)
    # Use never varies; the offence cost is triangular(250, 500, 1000), mean 583.3; 2 avoided.
    assert psa.mean == pytest.approx(2 * 583.33, rel=0.03)
    assert psa.probability_of_saving == 1.0
    assert 500 <= psa.interval[0] < psa.interval[1] <= 2_000


def test_before_after_pairs_people_and_carries_the_warning():
    before = pd.DataFrame({"police": [1_000.0, 3_000.0]}, index=["a", "b"])
    after = pd.DataFrame({"police": [500.0], "education": [100.0]}, index=["a"])
    result = before_after(before, after, n_boot=100)
    assert result.n == 2
    # a: 1,000 before, 600 after; b: 3,000 before, nothing after (zero, not missing).
    assert result.summary.loc["total", "fall"] == pytest.approx((400 + 3_000) / 2)
    assert result.summary.loc["education", "mean_after"] == pytest.approx(50)
    assert result.warning == BEFORE_AFTER_WARNING
    assert "regression to the mean" in result.warning


def test_break_even_counts_what_pays_for_one_family(catalogue):
    table = break_even(7_300.0, catalogue, {"home": "week", "offence": "event", "missing": "night"})
    rows = table.set_index("item")
    assert rows.loc["home", "unit_cost"] == pytest.approx(7_000)
    assert rows.loc["home", "avoided_to_break_even"] == pytest.approx(7_300 / 7_000)
    assert rows.loc["offence", "avoided_to_break_even"] == pytest.approx(14.6)
    assert "missing" not in rows.index
