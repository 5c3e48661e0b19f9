"""The report built from a costed site: the adapter's reading of records and the sums by arm."""

import pytest
from django.urls import reverse
from django.utils import timezone

from mstoutcomes.accounts.models import Role
from mstoutcomes.accounts.tests.factories import member
from mstoutcomes.costs.report import build_report
from mstoutcomes.costs.selectors import ARMS_HIDDEN_NOTE, resource_use_for, trial_arms_for
from mstoutcomes.trial.models import Trial


def test_the_adapter_reads_placements_custody_offences_and_meetings(costed_site, steering):
    use = resource_use_for(user=steering, site=costed_site)
    items = {u.item for u in use.uses}
    assert {"residential_home", "custody_yoi", "police_theft", "police_violence"} <= items
    assert {"court_appearance", "yot_order", "social_worker_hour"} <= items
    assert use.missing == []
    assert len(use.meetings) == 8


def test_other_sites_staff_read_nothing(costed_site, carol):
    assert resource_use_for(user=carol, site=costed_site).uses == []
    found = trial_arms_for(user=carol, site=costed_site)
    assert found is not None and found[2] == []


def test_arm_comparison_matches_the_records(costed_site, steering):
    report = build_report(user=steering, site=costed_site, n_boot=200)
    assert report is not None and report.trial is not None
    comparison = report.trial["comparison"]
    assert comparison.n == {"MST": 4, "MAU": 4}
    placed = comparison.effects.loc["placed"]
    assert placed["mean_MAU"] == 1.0 and placed["mean_MST"] == 0.5
    assert comparison.effects.loc["offences", "avoided"] == pytest.approx(2.0)
    # Children's home: MAU 70 nights each, MST 7 nights for two of four; restated to 2023-24.
    per_night = report.catalogue["residential_home"].rate_per("night")
    # Plus one 90-minute meeting with a social worker each.
    meeting = 1.5 * report.catalogue["social_worker_hour"].value
    la = comparison.summary.loc["la_childrens_services"]
    assert la["mean_MAU"] == pytest.approx(70 * per_night + meeting, rel=1e-9)
    assert la["mean_MST_services"] == pytest.approx(3.5 * per_night + meeting, rel=1e-9)
    # MST's programme: 4 x 40,000 x 1.3 + 20,000 = 228,000 a year over 40 families (2023-24).
    assert report.cost_per_family == pytest.approx(5_700)
    assert la["mean_MST_mst"] == pytest.approx(5_700 * 208_000 / 228_000)
    total = comparison.total
    assert total["ci_low"] <= total["net_saving"] <= total["ci_high"]
    assert set(report.trial["ce"]) == {"placed", "offences"}
    assert not report.break_even.empty


def test_the_report_is_the_same_for_the_same_seed(costed_site, steering):
    a = build_report(user=steering, site=costed_site, n_boot=100, seed=5)
    b = build_report(user=steering, site=costed_site, n_boot=100, seed=5)
    assert a.trial["comparison"].summary.equals(b.trial["comparison"].summary)
    assert (a.trial["psa"].draws == b.trial["psa"].draws).all()


def test_before_after_and_staff_time_come_from_the_mst_episodes(costed_site, steering):
    report = build_report(user=steering, site=costed_site, n_boot=100)
    assert report.before_after is not None and report.before_after.n == 4
    assert "regression to the mean" in report.before_after.warning
    assert "During MST" in set(report.periods["period"])
    assert "Professional meetings" in report.staff_time.columns


def test_a_site_without_loaded_costs_has_no_report(site_a, steering):
    assert build_report(user=steering, site=site_a) is None


def test_every_source_is_read_from_the_models_below_costs(costed_site, steering):
    use = resource_use_for(user=steering, site=costed_site)
    assert sorted(use.sources) == [
        "Custody",
        "Exclusions",
        "MST contacts",
        "Offences",
        "Placements",
        "Professional meetings",
    ]
    assert use.missing == []


def test_the_report_reads_in_a_fixed_number_of_queries(
    costed_site, steering, django_assert_max_num_queries
):
    # One query per source and table, whatever the number of young people (no N+1).
    with django_assert_max_num_queries(25):
        build_report(user=steering, site=costed_site, n_boot=50)


@pytest.mark.parametrize("role", [Role.STEERING_GROUP, Role.STATISTICIAN])
def test_blind_readers_see_the_trial_pooled_until_the_lock(client, costed_site, role):
    reader = member(role, costed_site)
    report = build_report(user=reader, site=costed_site, n_boot=50)
    assert report is not None and report.trial is None and report.staff_time_by_arm.empty
    assert ARMS_HIDDEN_NOTE in report.notes
    assert not report.staff_time.empty  # the pooled figures are still there
    client.force_login(reader)
    html = client.get(reverse("costs:report", args=[costed_site.code])).content.decode()
    assert "Savings by budget holder" not in html and "per young person, by trial arm" not in html
    assert "Costs by trial arm are hidden from your role" in html
    assert "Net saving per young person against" not in html
    assert (
        client.get(
            reverse("costs:download_csv", args=[costed_site.code, "savings_by_arm"])
        ).status_code
        == 404
    )
    Trial.objects.filter(sites=costed_site).update(locked_at=timezone.now())
    after = build_report(user=reader, site=costed_site, n_boot=50)
    assert after is not None and after.trial is not None  # by arm once the data are locked
