"""A costed site: shipped unit costs, an MST team, young people in both trial arms, their records.

Site A has 8 young people randomised 400 days before "today": 4 MST (each with an MST episode,
discharged), 4 MAU. MAU placements and custody are heavier, so MST saves on children's services.
"""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from mstoutcomes.accounts.models import AgencyKind, Role
from mstoutcomes.accounts.tests.factories import AgencyFactory, member
from mstoutcomes.cases.models import MeetingAttendee, ProfessionalMeeting
from mstoutcomes.cases.tests.factories import EpisodeFactory, YoungPersonFactory
from mstoutcomes.costs.services import (
    cost_settings_update,
    defaults_load,
    programme_running_cost_add,
    programme_staff_add,
)
from mstoutcomes.outcomes.models import CustodyEpisode, Offence, Placement
from mstoutcomes.trial.config import parse_trial_config
from mstoutcomes.trial.models import Allocation, Participant
from mstoutcomes.trial.services import trial_create

TODAY = dt.date.today()
RANDOMISED = TODAY - dt.timedelta(days=400)


@pytest.fixture
def pam(site_a):
    return member(Role.PROGRAMME_MANAGER, site_a, username="pam")


@pytest.fixture
def steering(site_a):
    """A reader of the cost report who may see the trial's arms (a DMC member).

    The steering group itself sees the trial's figures pooled until the database lock
    (test_report.py::test_blind_readers_see_the_trial_pooled_until_the_lock).
    """
    return member(Role.DMC_MEMBER, site_a, username="stella")


@pytest.fixture
def loaded(site_a):
    defaults_load(by=None, site=site_a)
    return site_a


@pytest.fixture
def costed_site(loaded, alice):
    site = loaded
    cost_settings_update(by=None, site=site, fields={"families_per_year": Decimal("40")})
    programme_staff_add(
        by=None,
        site=site,
        role="Therapist",
        fte=Decimal("4"),
        salary=Decimal("40000"),
        on_cost_rate=Decimal("0.3"),
        budget_holder="la_childrens_services",
    )
    programme_running_cost_add(
        by=None,
        site=site,
        label="Licence and consultation",
        annual_amount=Decimal("20000"),
        budget_holder="nhs",
    )
    spec = parse_trial_config(
        {
            "code": "START-C",
            "title": "MST versus management as usual",
            "method": "blocks",
            "arms": [
                {"code": "MAU", "name": "Management as usual"},
                {"code": "MST", "name": "MST"},
            ],
            "factors": [{"name": "site", "categories": ["AAA"]}],
        }
    )
    trial = trial_create(by=None, spec=spec, sites=[site])
    social_care = AgencyFactory(name="Children's services", kind=AgencyKind.SOCIAL_CARE)
    for n in range(8):
        arm = "MST" if n % 2 else "MAU"
        person = YoungPersonFactory(site=site, study_id=f"AAA-{n + 1:04d}")
        participant = Participant.objects.create(trial=trial, young_person=person, site=site)
        Allocation.objects.create(
            trial=trial,
            participant=participant,
            arm=arm,
            method="blocks",
            stratum="AAA",
            sequence=n + 1,
            allocated_at=timezone.make_aware(dt.datetime.combine(RANDOMISED, dt.time(12))),
            allocated_by=alice,
        )
        if arm == "MST":
            EpisodeFactory(
                young_person=person,
                start_date=RANDOMISED + dt.timedelta(days=10),
                end_date=RANDOMISED + dt.timedelta(days=130),
                therapist=alice,
                discharge_reason="completed",
            )
        # Placements: MAU 70 nights in a children's home each; MST 7 nights for one in two.
        nights = 70 if arm == "MAU" else (7 if n % 4 == 1 else 0)
        if nights:
            start = RANDOMISED + dt.timedelta(days=30)
            Placement.objects.create(
                young_person=person,
                kind="residential",
                start_date=start,
                end_date=start + dt.timedelta(days=nights),
            )
        # Custody: one MAU young person, 30 nights in a YOI.
        if n == 0:
            CustodyEpisode.objects.create(
                young_person=person,
                kind="remand",
                establishment="yoi",
                start_date=RANDOMISED + dt.timedelta(days=200),
                end_date=RANDOMISED + dt.timedelta(days=230),
            )
        # Offences: MAU 3 each, MST 1 each; and one before randomisation for everyone.
        for k in range(3 if arm == "MAU" else 1):
            Offence.objects.create(
                young_person=person,
                offence_date=RANDOMISED + dt.timedelta(days=40 + k),
                category="theft",
                gravity=2,
                outcome="youth_caution",
            )
        Offence.objects.create(
            young_person=person,
            offence_date=RANDOMISED - dt.timedelta(days=60),
            category="violence",
            gravity=3,
            outcome="referral_order",
        )
        meeting = ProfessionalMeeting.objects.create(
            young_person=person,
            date=RANDOMISED + dt.timedelta(days=50),
            duration_minutes=90,
            purpose="child_in_need",
        )
        MeetingAttendee.objects.create(meeting=meeting, agency=social_care, role="Social worker")
    return site
