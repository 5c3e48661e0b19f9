"""Hand-worked examples for the costing rules (no database)."""

import datetime as dt
import itertools

import pytest

from mstoutcomes.costs.costing import (
    BudgetHolder,
    CostingError,
    Event,
    Period,
    PriceIndex,
    ProgrammeCost,
    RunningCost,
    Spell,
    StaffPost,
    Unit,
    UnitCost,
    add_months,
    build_catalogue,
    cost_by_person,
    cost_uses,
    mst_periods,
    trial_periods,
)

D = dt.date
INDEX = PriceIndex("test deflator", {"2013-14": 80.0, "2022-23": 100.0, "2023-24": 105.0})


def unit(code, value, per, year="2022-23", holder=BudgetHolder.LA_CHILDRENS, **kw):
    return UnitCost(code, code, value, per, year, holder, **kw)


@pytest.fixture
def catalogue():
    return build_catalogue(
        [
            unit("home", 365_000.0, Unit.YEAR),  # £1,000 a night
            unit("foster", 700.0, Unit.WEEK),  # £100 a night
            unit("sw_hour", 40.0, Unit.HOUR, year="2013-14"),  # £50 in 2022-23
            unit("offence", 500.0, Unit.EVENT, holder=BudgetHolder.POLICE),
            unit("suspension_day", 120.0, Unit.DAY, holder=BudgetHolder.EDUCATION),
        ],
        index=INDEX,
        price_year="2022-23",
    )


def test_a_year_figure_costs_a_night_at_one_365th():
    assert unit("x", 365_000.0, Unit.YEAR).rate_per(Unit.NIGHT) == pytest.approx(1_000)
    assert unit("x", 700.0, Unit.WEEK).rate_per(Unit.DAY) == pytest.approx(100)
    assert unit("x", 100.0, Unit.NIGHT).rate_per(Unit.YEAR) == pytest.approx(36_500)


def test_hours_cannot_be_costed_with_a_per_event_figure():
    with pytest.raises(CostingError, match="per event"):
        unit("offence", 500.0, Unit.EVENT).rate_per(Unit.HOUR)


def test_inflation_restates_by_the_ratio_of_index_values():
    restated = INDEX.restate(
        unit("sw", 40.0, Unit.HOUR, year="2013-14", low=30.0, high=60.0), "2023-24"
    )
    assert restated.value == pytest.approx(40 * 105 / 80)  # £52.50
    assert restated.range == pytest.approx((30 * 105 / 80, 60 * 105 / 80))
    assert restated.price_year == "2023-24"


def test_a_missing_price_year_is_refused_not_guessed():
    with pytest.raises(CostingError, match="2010-11"):
        INDEX.factor("2010-11", "2022-23")


def test_the_catalogue_holds_every_item_in_the_chosen_year(catalogue):
    assert {c.price_year for c in catalogue.costs.values()} == {"2022-23"}
    assert catalogue["sw_hour"].value == pytest.approx(50.0)


def test_a_range_must_contain_the_value():
    with pytest.raises(CostingError, match="range"):
        unit("x", 10.0, Unit.HOUR, low=11.0)


def test_add_months_clips_to_the_end_of_the_month():
    assert add_months(D(2024, 8, 31), -6) == D(2024, 2, 29)
    assert add_months(D(2024, 1, 15), 12) == D(2025, 1, 15)
    assert add_months(D(2024, 3, 31), -13) == D(2023, 2, 28)


def test_mst_periods_are_contiguous_and_do_not_overlap():
    periods = mst_periods(D(2024, 3, 1), D(2024, 6, 30))
    assert [p.name for p in periods] == [
        "before_7_12",
        "before_0_6",
        "during",
        "after_0_6",
        "after_7_12",
    ]
    assert periods[0].start == D(2023, 3, 1) and periods[-1].end == D(2025, 7, 1)
    assert periods[2].contains(D(2024, 6, 30))  # the discharge day is part of MST
    for first, second in itertools.pairwise(periods):
        assert first.end == second.start


def test_a_placement_crossing_the_start_of_mst_is_split_by_nights(catalogue):
    # MST 1 Mar–1 Jul 2024. Residential from 20 Feb to 10 Mar: 10 nights before (20–29 Feb,
    # 2024 is a leap year) and 9 nights during; £1,000 a night.
    periods = {"A": mst_periods(D(2024, 3, 1), D(2024, 6, 30))}
    rows = cost_uses(
        [Spell("A", "home", D(2024, 2, 20), D(2024, 3, 10))],
        periods=periods,
        catalogue=catalogue,
        observed_to=D(2026, 1, 1),
    )
    by_period = rows.set_index("period")
    assert by_period.loc["before_0_6", "quantity"] == 10
    assert by_period.loc["during", "quantity"] == 9
    assert by_period.loc["before_0_6", "cost"] == pytest.approx(10_000)
    assert by_period.loc["during", "cost"] == pytest.approx(9_000)
    assert by_period.loc["during", "units"] == pytest.approx(9 / 365)
    assert rows["cost"].sum() == pytest.approx(19_000)


def test_an_open_placement_runs_to_the_end_of_observation(catalogue):
    periods = {"A": (Period("p", D(2024, 1, 1), D(2025, 1, 1)),)}
    rows = cost_uses(
        [Spell("A", "foster", D(2024, 12, 1))],
        periods=periods,
        catalogue=catalogue,
        observed_to=D(2024, 12, 15),
    )
    assert rows["quantity"].tolist() == [14]
    assert rows["cost"].sum() == pytest.approx(1_400)


def test_a_spell_that_outlasts_the_last_period_is_cut_at_its_end(catalogue):
    periods = {"A": (Period("p", D(2024, 1, 1), D(2024, 1, 8)),)}
    rows = cost_uses(
        [Spell("A", "foster", D(2023, 12, 1), D(2024, 3, 1))],
        periods=periods,
        catalogue=catalogue,
        observed_to=D(2025, 1, 1),
    )
    assert rows["quantity"].tolist() == [7]
    assert rows["cost"].sum() == pytest.approx(700)


def test_mixed_units_in_one_person_and_period(catalogue):
    # 2.5 social-worker hours (£50/h) + 2 offences (£500) + 3 suspension days (£120/day)
    # + a week in foster care (£700/week) = 125 + 1000 + 360 + 700 = £2,185.
    periods = {"A": (Period("p", D(2024, 1, 1), D(2024, 7, 1)),)}
    uses = [
        Event("A", "sw_hour", D(2024, 2, 1), 2.5, Unit.HOUR),
        Event("A", "offence", D(2024, 3, 1), 2),
        Event("A", "suspension_day", D(2024, 4, 1), 3, Unit.DAY),
        Spell("A", "foster", D(2024, 5, 1), D(2024, 5, 8)),
    ]
    rows = cost_uses(uses, periods=periods, catalogue=catalogue, observed_to=D(2025, 1, 1))
    assert rows["cost"].sum() == pytest.approx(2_185)
    table = cost_by_person(rows, people=["A", "B"])
    assert table.loc["A"].to_dict() == pytest.approx(
        {"education": 360, "la_childrens_services": 825, "police": 1000}
    )
    assert table.loc["B"].sum() == 0  # people who used nothing still count, at zero


def test_events_outside_every_period_are_not_costed(catalogue):
    periods = {"A": (Period("p", D(2024, 1, 1), D(2024, 2, 1)),)}
    rows = cost_uses(
        [Event("A", "offence", D(2024, 2, 1)), Event("Z", "offence", D(2024, 1, 5))],
        periods=periods,
        catalogue=catalogue,
        observed_to=D(2025, 1, 1),
    )
    assert rows.empty  # 1 Feb is the first day after the half-open period; Z has no periods


def test_an_unknown_item_is_named():
    catalogue = build_catalogue([], index=INDEX, price_year="2022-23")
    with pytest.raises(CostingError, match="'ghost'"):
        cost_uses(
            [Event("A", "ghost", D(2024, 1, 1))],
            periods={"A": (Period("p", D(2024, 1, 1), D(2024, 2, 1)),)},
            catalogue=catalogue,
            observed_to=D(2025, 1, 1),
        )


def test_trial_periods_start_at_randomisation():
    baseline, follow_up = trial_periods(D(2024, 5, 10), follow_up_months=18)
    assert baseline == Period("baseline", D(2023, 5, 10), D(2024, 5, 10))
    assert follow_up.end == D(2025, 11, 10)


def test_programme_cost_per_family_from_staffing_and_running_costs():
    # 4 therapists at £40,000 and a supervisor at £50,000, with 30% on-costs: £273,000;
    # overheads 10% of staffing: £27,300; licence and consultation £20,000; training £9,700.
    # Total £330,000 over 44 families = £7,500 a family.
    programme = ProgrammeCost(
        price_year="2022-23",
        staff=(
            StaffPost("Therapist", 4, 40_000, 0.30),
            StaffPost("Supervisor", 1, 50_000, 0.30, budget_holder=BudgetHolder.NHS),
        ),
        running=(
            RunningCost("Licence and consultation", 20_000),
            RunningCost("Training", 9_700, BudgetHolder.NHS),
        ),
        overhead_rate=0.10,
        families_per_year=44,
    )
    assert programme.staffing == pytest.approx(273_000)
    assert programme.annual_total == pytest.approx(330_000)
    assert programme.cost_per_family == pytest.approx(7_500)
    # NHS: supervisor 65,000 x 1.1 + 9,700 = 81,200 of 330,000.
    assert programme.shares()["nhs"] == pytest.approx(81_200 / 330_000)
    assert sum(programme.per_family_by_holder().values()) == pytest.approx(7_500)
    assert programme.frame()["annual_cost"].sum() == pytest.approx(330_000)


def test_a_per_family_figure_is_used_when_that_is_all_a_site_has():
    programme = ProgrammeCost(price_year="2013-14", per_family=8_000, families_per_year=40)
    assert programme.cost_per_family == 8_000
    assert programme.restated(INDEX, "2022-23").cost_per_family == pytest.approx(10_000)
    assert programme.shares() == {"la_childrens_services": 1.0}


def test_a_programme_without_families_served_is_refused():
    with pytest.raises(CostingError, match="families"):
        ProgrammeCost(price_year="2022-23", staff=(StaffPost("Therapist", 1, 40_000),))
