"""The demo site's cost report: what a programme manager reads after `make run`."""

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction

from mstoutcomes.accounts.models import Membership, Role, Site
from mstoutcomes.costs.report import build_report
from mstoutcomes.costs.sections import page_for

AS_OF = dt.date(2026, 3, 31)
pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        out = StringIO()
        call_command("demo", "--seed", "1", "--as-of", AS_OF.isoformat(), stdout=out)
        yield out.getvalue()
        transaction.set_rollback(True)


def test_the_demo_report_has_cost_per_family_before_after_and_staff_time(demo, capsys):
    site = Site.objects.get(code="TRF")
    manager = Membership.objects.filter(site=site, role=Role.PROGRAMME_MANAGER).first().user
    report = build_report(user=manager, site=site, as_of=AS_OF)
    assert report is not None and report.programme is not None
    # (4 x 42,000 + 52,000) x 1.3 x 1.15 + 33,000 = 361,900 over 40 families.
    assert report.cost_per_family == pytest.approx(9_047.5)
    assert report.needs_local_value == []
    assert report.missing_sources == []
    assert report.before_after is not None and report.before_after.n >= 5
    assert not report.staff_time.empty and not report.break_even.empty
    # The demo is a trial site: staff time and meetings are compared by arm as well.
    by_arm = report.staff_time_by_arm
    assert set(by_arm["arm"]) == {report.trial["treatment"], report.trial["control"]}
    after = by_arm[by_arm["period"].str.contains("after")].set_index("arm")
    assert after.loc[report.trial["control"], "MST staff hours"] == 0
    assert after.loc[report.trial["treatment"], "MST staff hours"] > 0
    assert (by_arm["Professional meetings"] >= 0).all()
    page = page_for(report)
    assert any(s.slug == "staff_time_by_arm" for s in page.sections)
    with capsys.disabled():
        print("\nDemo TRF headline:")
        for label, value, detail in page.headline:
            print(f"  {label}: {value} ({detail})")
        print(report.before_after.summary[["mean_before", "mean_after", "fall"]].round(0))
        print(report.staff_time.round(1).to_string())
        print(report.staff_time_by_arm.round(1).to_string())
        print(report.notes)
