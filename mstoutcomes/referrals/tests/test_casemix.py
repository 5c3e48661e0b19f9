"""Case mix against the target, agency skew warnings and the suggested order with reasons."""

import datetime as dt

from mstoutcomes.referrals.casemix import Mix, MixCase, case_mix, mix_of, suggest_order

TARGET = {"lower": 0.3, "medium": 0.4, "higher": 0.3}
AS_OF = dt.date(2026, 3, 1)


def cases(agency, bands):
    return [MixCase(n, f"{agency}{n}", agency, band) for n, band in enumerate(bands)]


def report(**groups):
    return case_mix(
        received=groups.get("received", []),
        waiting=groups.get("waiting", []),
        accepted=groups.get("accepted", []),
        target=TARGET,
        tolerance=0.1,
        skew_share=0.6,
        skew_min_referrals=4,
    )


def test_warns_when_accepted_cases_skew_to_the_highest_band():
    result = report(accepted=cases("YOS", ["higher", "higher", "higher", "lower", "medium"]))

    assert result.accepted.counts == {"lower": 1, "medium": 1, "higher": 3}
    assert result.warnings == (
        "3 of 5 accepted families (60%) are higher complexity, above the target of 30% "
        "(allowing 10%).",
    )


def test_no_warning_within_tolerance():
    assert report(accepted=cases("YOS", ["higher", "lower", "medium", "medium"])).warnings == ()


def test_names_the_agency_that_sends_mostly_higher_complexity():
    received = cases("YOS", ["higher"] * 4 + ["medium"]) + cases("School", ["lower"] * 5)

    result = report(received=received)

    assert [s.agency for s in result.skewed_agencies] == ["YOS"]
    assert "YOS sent 4 of 5 referrals (80%) at higher complexity." in result.warnings


def test_suggested_order_puts_urgent_first_then_balances_the_mix():
    accepted = Mix({"lower": 1, "medium": 1, "higher": 3})
    candidates = [
        MixCase(1, "Higher", "YOS", "higher", waiting_since=AS_OF - dt.timedelta(days=20)),
        MixCase(2, "Medium", "CSC", "medium", waiting_since=AS_OF - dt.timedelta(days=5)),
        MixCase(3, "Urgent", "YOS", "higher", urgent=True, waiting_since=AS_OF),
        MixCase(4, "Lower", "School", "lower", waiting_since=AS_OF - dt.timedelta(days=3)),
    ]

    order = suggest_order(candidates, accepted=accepted, target=TARGET, as_of=AS_OF)

    assert [s.case.label for s in order] == ["Urgent", "Medium", "Lower", "Higher"]
    assert order[0].reasons[0].startswith("Marked urgent")
    assert "moves the mix towards target" in order[1].reasons[0]


def test_a_long_wait_comes_before_the_mix():
    candidates = [
        MixCase(1, "Long", "YOS", "higher", waiting_since=AS_OF - dt.timedelta(weeks=9)),
        MixCase(2, "Fits", "CSC", "medium", waiting_since=AS_OF),
    ]
    order = suggest_order(candidates, accepted=mix_of([]), target=TARGET, as_of=AS_OF)

    assert [s.case.label for s in order] == ["Long", "Fits"]
    assert "Has waited 9 weeks" in order[0].reasons[0]
