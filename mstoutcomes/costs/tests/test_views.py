"""The costs pages as the personas see them: allowed, read-only, another site."""

import io
from decimal import Decimal

import openpyxl
import pytest
from django.urls import reverse

from mstoutcomes.accounts.models import AuditEvent, Role
from mstoutcomes.accounts.tests.factories import member
from mstoutcomes.costs.models import UnitCost


@pytest.fixture
def paul(site_b):
    """A programme manager at another site."""
    return member(Role.PROGRAMME_MANAGER, site_b, username="paul")


def urls(site, cost):
    return {
        "report": reverse("costs:report", args=[site.code]),
        "excel": reverse("costs:download_excel", args=[site.code]),
        "csv": reverse("costs:download_csv", args=[site.code, "unit_costs"]),
        "edit": reverse("costs:unit_cost_edit", args=[site.code, cost.pk]),
        "settings": reverse("costs:settings_edit", args=[site.code]),
        "staff": reverse("costs:staff_add", args=[site.code]),
        "running": reverse("costs:running_cost_add", args=[site.code]),
    }


# fmt: off
#             report excel csv  edit settings staff running
EXPECTED = {
    "pam":      (200, 200, 200, 200, 200, 200, 200),   # programme manager: reads and edits
    "stella":   (200, 200, 200, 403, 403, 403, 403),   # DMC member: reads only
    "bob":      (403, 403, 403, 403, 403, 403, 403),   # research worker: no dashboards
    "paul":     (404, 404, 404, 403, 403, 403, 403),   # programme manager at another site
}
# fmt: on


def test_every_costs_page_for_every_persona(client, costed_site, pam, steering, bob, paul):
    cost = UnitCost.objects.get(site=costed_site, code="foster_care")
    pages = urls(costed_site, cost)
    for persona in (pam, steering, bob, paul):
        client.force_login(persona)
        seen = tuple(client.get(url).status_code for url in pages.values())
        assert seen == EXPECTED[persona.username], persona.username


def test_the_report_shows_the_headline_charts_tables_and_sources(client, costed_site, steering):
    client.force_login(steering)
    page = client.get(reverse("costs:report", args=[costed_site.code])).content.decode()
    assert "MST cost per family" in page and "£5,700" in page
    assert "Net saving per young person against management as usual" in page
    assert "2023-24 prices" in page
    assert page.count('<div class="mst-chart"><svg') >= 4
    assert "regression to the mean" in page
    assert "nao.org.uk" in page and "[V]" in page
    assert "Break-even" in page
    assert "AAA-0001" not in page  # aggregates only: no study IDs
    assert "Change<span" not in page  # read-only


def test_downloads_are_audited_and_excel_has_a_sheet_per_table(client, costed_site, steering):
    client.force_login(steering)
    response = client.get(reverse("costs:download_excel", args=[costed_site.code]))
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    assert {"about", "unit_costs", "savings_by_arm", "tornado", "break_even"} <= set(
        book.sheetnames
    )
    csv = client.get(reverse("costs:download_csv", args=[costed_site.code, "savings_by_arm"]))
    assert csv["Content-Type"] == "text/csv" and "net_saving" in csv.content.decode()
    assert AuditEvent.objects.filter(action="costs.report.exported").count() == 2
    missing = client.get(reverse("costs:download_csv", args=[costed_site.code, "nothing"]))
    assert missing.status_code == 404


def test_a_programme_manager_changes_a_unit_cost(client, costed_site, pam):
    cost = UnitCost.objects.get(site=costed_site, code="teacher_hour")
    client.force_login(pam)
    url = reverse("costs:unit_cost_edit", args=[costed_site.code, cost.pk])
    data = {
        "label": cost.label,
        "value": "45",
        "price_year": "2023-24",
        "low": "30",
        "high": "60",
        "source_title": "Local teacher pay scale with on-costs",
        "source_url": "",
        "tag": "V",
        "value_type": "non_cashable",
        "notes": "",
    }
    assert client.post(url, data).status_code == 302
    cost.refresh_from_db()
    assert cost.value == Decimal("45") and cost.is_local
    bad = client.post(url, {**data, "value": "90"})
    assert bad.status_code == 400 and "range must include" in bad.content.decode()


def test_refused_posts_write_nothing(client, costed_site, steering):
    cost = UnitCost.objects.get(site=costed_site, code="teacher_hour")
    before = AuditEvent.objects.count()
    client.force_login(steering)
    url = reverse("costs:unit_cost_edit", args=[costed_site.code, cost.pk])
    assert client.post(url, {"value": "1"}).status_code == 403
    assert AuditEvent.objects.count() == before


def test_a_site_without_costs_says_how_to_load_them(client, site_a, steering):
    client.force_login(steering)
    page = client.get(reverse("costs:report", args=[site_a.code])).content.decode()
    assert "costs_load_defaults" in page


def test_the_index_goes_straight_to_the_only_site(client, site_a, steering):
    client.force_login(steering)
    response = client.get(reverse("costs:index"))
    assert response.status_code == 302 and response.url.endswith("/costs/AAA/")


def test_a_programme_manager_adds_a_post_and_the_cost_per_family_rises(client, costed_site, pam):
    from mstoutcomes.costs.report import build_report

    client.force_login(pam)
    response = client.post(
        reverse("costs:staff_add", args=[costed_site.code]),
        {
            "role": "MST supervisor",
            "fte": "1",
            "salary": "52000",
            "on_cost_rate": "0.3",
            "budget_holder": "la_childrens_services",
        },
    )
    assert response.status_code == 302
    report = build_report(user=pam, site=costed_site, n_boot=50)
    # 228,000 + 52,000 x 1.3 = 295,600 over 40 families.
    assert report.cost_per_family == pytest.approx(7_390)
    assert AuditEvent.objects.filter(action="costs.programme_staff.added").count() == 2
