from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from mstoutcomes.accounts.models import AuditEvent
from mstoutcomes.costs.defaults import DEFAULT_UNIT_COSTS, GDP_DEFLATOR
from mstoutcomes.costs.models import CostSettings, PriceIndex, UnitCost
from mstoutcomes.costs.services import defaults_load, unit_cost_update


def test_loading_defaults_adds_every_item_with_its_source_and_the_index(site_a):
    report = defaults_load(by=None, site=site_a)
    assert len(report.added) == len(DEFAULT_UNIT_COSTS)
    home = UnitCost.objects.get(site=site_a, code="residential_home")
    assert (home.value, home.unit, home.price_year, home.tag) == (
        Decimal("318400.00"),
        "year",
        "2023-24",
        "V",
    )
    assert "nao.org.uk" in home.source_url
    index = PriceIndex.objects.get(name=GDP_DEFLATOR.name)
    assert index.values.count() == len(GDP_DEFLATOR.values)
    assert CostSettings.objects.get(site=site_a).index == index
    assert AuditEvent.objects.filter(action="costs.unit_costs.loaded").count() == 1


def test_a_new_default_never_overwrites_a_sites_figure(site_a, pam):
    defaults_load(by=None, site=site_a)
    home = UnitCost.objects.get(site=site_a, code="residential_home")
    unit_cost_update(by=pam, unit_cost=home, fields={"value": Decimal("300000"), "low": None})
    report = defaults_load(by=None, site=site_a)
    home.refresh_from_db()
    assert home.value == Decimal("300000") and home.is_local
    assert report.added == []
    assert any(line.startswith("residential_home") for line in report.differs)
    assert "kept" in report.summary or "differs" in report.summary


def test_editing_a_unit_cost_keeps_history_and_audits_the_change(site_a, pam):
    defaults_load(by=None, site=site_a)
    cost = UnitCost.objects.get(site=site_a, code="teacher_hour")
    unit_cost_update(
        by=pam,
        unit_cost=cost,
        fields={"value": Decimal("48"), "high": Decimal("60"), "source_title": "Local pay scale"},
    )
    assert cost.history.count() == 2
    assert cost.history.first().history_user == pam
    event = AuditEvent.objects.get(action="costs.unit_cost.updated")
    assert event.changes["value"] == ["0.00", "48"]
    assert event.actor == pam


def test_a_range_that_excludes_the_value_is_refused_and_nothing_is_written(site_a, pam):
    defaults_load(by=None, site=site_a)
    cost = UnitCost.objects.get(site=site_a, code="foster_care")
    before = AuditEvent.objects.count()
    with pytest.raises(ValidationError):
        unit_cost_update(by=pam, unit_cost=cost, fields={"value": Decimal("900")})
    assert AuditEvent.objects.count() == before
    cost.refresh_from_db()
    assert cost.value == Decimal("646.00")


def test_only_cost_managers_may_edit(site_a, bob, steering):
    defaults_load(by=None, site=site_a)
    cost = UnitCost.objects.get(site=site_a, code="foster_care")
    for user in (bob, steering):
        with pytest.raises(PermissionDenied):
            unit_cost_update(by=user, unit_cost=cost, fields={"value": Decimal("700")})


def test_the_load_command_reports_each_site(site_a, site_b):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("costs_load_defaults", stdout=out)
    assert "AAA:" in out.getvalue() and "BBB:" in out.getvalue()
    assert UnitCost.objects.filter(site=site_b).count() == len(DEFAULT_UNIT_COSTS)
