"""Trial outcomes are entered by assessors, in windows; blinded staff see no treatment pages.

Three families at a trial site: one randomised to MST (with an episode and a therapist), one to
management as usual, and one consented but not yet randomised. Randomised 200 days ago, so the
6-month window is open today and 100 days after randomisation is in no window.
"""

from __future__ import annotations

import datetime as dt
import re
from html import unescape
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from mstoutcomes.accounts.models import AuditEvent, Role
from mstoutcomes.accounts.tests.factories import member
from mstoutcomes.cases.protocol import ProtocolRefused
from mstoutcomes.cases.tests.factories import EpisodeFactory, YoungPersonFactory
from mstoutcomes.core.dates import today
from mstoutcomes.measures import anchors, services
from mstoutcomes.measures.models import Assessment
from mstoutcomes.trial.models import Allocation, ConsentRecord, Participant
from mstoutcomes.trial.tests.conftest import make_trial

pytestmark = pytest.mark.django_db

DAYS_AGO = 200
APQ9 = {"positive": 10, "inconsistent": 9, "supervision": 8}


def _enrol(trial, person, manager, *, arm: str | None, sequence: int) -> Participant:
    participant = Participant.objects.create(
        trial=trial, young_person=person, site=person.site, levels={}, is_eligible=True
    )
    ConsentRecord.objects.create(
        participant=participant,
        kind="carer_consent",
        form_version="v1",
        given=True,
        recorded_on=today() - dt.timedelta(days=DAYS_AGO + 7),
        taken_by=manager,
    )
    if arm:
        Allocation.objects.create(
            trial=trial,
            participant=participant,
            arm=arm,
            method="minimisation",
            stratum="*",
            sequence=sequence,
            allocated_at=timezone.make_aware(
                dt.datetime.combine(today() - dt.timedelta(days=DAYS_AGO), dt.time(12))
            ),
            allocated_by=manager,
        )
    return participant


@pytest.fixture
def manager(site_a):
    return member(Role.TRIAL_MANAGER, site_a, username="tina", first_name="Tina", last_name="T")


@pytest.fixture
def families(site_a, alice, manager):
    trial = make_trial(site_a)
    in_mst = YoungPersonFactory(site=site_a, study_id="AAA-0501")
    in_mau = YoungPersonFactory(site=site_a, study_id="AAA-0502")
    waiting = YoungPersonFactory(site=site_a, study_id="AAA-0503")
    _enrol(trial, in_mst, manager, arm="MST", sequence=1)
    _enrol(trial, in_mau, manager, arm="MAU", sequence=2)
    _enrol(trial, waiting, manager, arm=None, sequence=0)
    EpisodeFactory(
        young_person=in_mst, therapist=alice, start_date=today() - dt.timedelta(days=DAYS_AGO - 10)
    )
    return {"mst": in_mst, "mau": in_mau, "waiting": waiting}


def apq9(by, person, *, on=None, **kwargs):
    return services.assessment_record(
        by=by,
        young_person=person,
        instrument="apq9",
        respondent="parent",
        completed_on=on or today(),
        mode="paper",
        entered=APQ9,
        **kwargs,
    )


def refusals(reason=None):
    events = AuditEvent.objects.filter(action="measures.assessment.refused")
    return [e for e in events if reason is None or e.data["reason"] == reason]


# --- who enters trial outcomes -----------------------------------------------------------------


@pytest.mark.parametrize("arm", ["mst", "mau", "waiting"])
def test_a_therapist_cannot_enter_an_apq9_for_a_trial_participant(alice, families, arm):
    with pytest.raises(ValidationError, match="only a research worker or the trial manager"):
        apq9(alice, families[arm])
    assert not Assessment.objects.unscoped().exists()
    (event,) = refusals("assessor_only")
    assert event.actor == alice and event.data["attempt"] == "measures.assessment.recorded"


def test_a_therapist_cannot_choose_a_trial_timepoint_even_for_a_shared_instrument(alice, families):
    with pytest.raises(ValidationError, match="trial outcome timepoint"):
        services.assessment_record(
            by=alice,
            young_person=families["mst"],
            instrument="sdq-s",
            respondent="young_person",
            completed_on=today(),
            mode="paper",
            entered={"emotion": 3, "conduct": 4, "hyper": 5, "peer": 2, "prosocial": 6},
            timepoint="t6",
        )
    assert refusals("assessor_only")


def test_the_research_worker_enters_the_6_month_apq9_in_its_window(bob, families):
    saved = apq9(bob, families["mau"])
    assert (saved.schedule, saved.timepoint, saved.out_of_window) == ("trial", "t6", False)
    event = AuditEvent.objects.get(action="measures.assessment.recorded")
    assert event.data["timepoint"] == "t6" and "out_of_window" not in event.data


def test_a_therapist_keeps_entering_treatment_measures_for_an_mst_family(alice, families):
    saved = services.assessment_record(
        by=alice,
        young_person=families["mst"],
        instrument="tam-r",
        respondent="parent",
        completed_on=today(),
        mode="paper",
        entered={"adherence": "0.8"},
        timepoint="month_1",
        out_of_window_reason="",
    )
    assert saved.schedule == "mst-service" and saved.entered_by == alice


def test_http_a_therapist_posting_an_apq9_for_a_participant_is_refused_plainly(
    client, alice, families
):
    client.force_login(alice)
    url = reverse("measures:enter", args=["AAA-0502", "apq9", "parent"]) + "?entry=scores"
    response = client.post(url, _post(**{f"scale_{k}": v for k, v in APQ9.items()}))
    assert response.status_code == 400
    assert "only a research worker or the trial manager enters it" in response.content.decode()
    assert refusals("assessor_only") and not Assessment.objects.unscoped().exists()


@pytest.mark.parametrize("arm", ["mst", "mau", "waiting"])
def test_http_a_therapist_opening_the_apq9_page_for_a_participant_is_told_why_not_given_a_form(
    client, alice, bob, families, arm
):
    study_id = families[arm].study_id
    url = reverse("measures:enter", args=[study_id, "apq9", "parent"])
    client.force_login(alice)
    response = client.get(url)
    assert response.status_code == 403
    page = unescape(response.content.decode())
    assert (
        f"APQ-9 is one of the trial's outcome measures and {study_id} is a trial participant: "
        "only a research worker or the trial manager enters it." in page
    )
    assert "Save and score" not in page
    # The research worker, an outcome assessor, gets the form.
    client.force_login(bob)
    response = client.get(url)
    assert response.status_code == 200 and "Save and score" in response.content.decode()


def test_http_a_therapist_still_gets_the_apq9_form_for_a_young_person_outside_the_trial(
    client, alice, site_a
):
    person = YoungPersonFactory(site=site_a, study_id="AAA-0600")
    EpisodeFactory(young_person=person, therapist=alice, start_date=today())
    client.force_login(alice)
    response = client.get(reverse("measures:enter", args=[person.study_id, "apq9", "parent"]))
    assert response.status_code == 200 and "Save and score" in response.content.decode()


# --- windows -------------------------------------------------------------------------------------


def test_a_trial_entry_outside_its_window_is_refused_showing_the_window(bob, families):
    person = families["mau"]
    late = today() - dt.timedelta(days=DAYS_AGO - 100)
    task = next(t for t in services.tasks_for(person, None) if t.timepoint == "t6")
    with pytest.raises(ValidationError) as error:
        apq9(bob, person, on=late, timepoint="t6")
    message = " ".join(error.value.messages)
    assert (
        f"Trial 6 months is open {task.opens.isoformat()} to {task.closes.isoformat()}; "
        f"this entry is dated {late.isoformat()}"
    ) in message
    assert not Assessment.objects.unscoped().exists()
    (event,) = refusals("out_of_window")
    assert event.data["timepoint"] == "t6"


def test_with_a_reason_it_is_saved_flagged_out_of_window_and_audited(bob, families):
    late = today() - dt.timedelta(days=DAYS_AGO - 100)
    saved = apq9(bob, families["mau"], on=late, timepoint="t6", out_of_window_reason="Family away")
    assert saved.out_of_window and saved.out_of_window_reason == "Family away"
    assert (saved.schedule, saved.timepoint) == ("trial", "t6")
    event = AuditEvent.objects.get(action="measures.assessment.recorded")
    assert event.data["out_of_window"] is True
    assert event.data["out_of_window_reason"] == "Family away"


def test_a_date_in_no_window_is_never_filed_under_the_nearest_timepoint(bob, families):
    late = today() - dt.timedelta(days=DAYS_AGO - 100)
    with pytest.raises(ValidationError, match=r"in no window\. The nearest: Trial 6 months"):
        apq9(bob, families["mau"], on=late)
    assert not Assessment.objects.unscoped().exists()
    (event,) = refusals("no_window")
    assert event.data["nearest"] == "t6"


def test_baseline_is_open_from_consent_before_randomisation(bob, families):
    person = families["waiting"]
    (t0,) = {t.timepoint: t for t in services.tasks_for(person, None)}.values()
    consent = today() - dt.timedelta(days=DAYS_AGO + 7)
    assert (t0.timepoint, t0.opens, t0.closes) == ("t0", consent, consent + dt.timedelta(days=28))


def test_http_out_of_window_is_refused_then_saved_with_a_reason_and_tagged(client, bob, families):
    client.force_login(bob)
    late = today() - dt.timedelta(days=DAYS_AGO - 100)
    url = reverse("measures:enter", args=["AAA-0502", "apq9", "parent"]) + "?entry=scores"
    data = _post(on=late, timepoint="t6", **{f"scale_{k}": v for k, v in APQ9.items()})
    response = client.post(url, data)
    assert response.status_code == 400
    assert "Trial 6 months is open" in response.content.decode()
    data["out_of_window_reason"] = "Family away for the whole window"
    response = client.post(url, data)
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "Out of window" in page and "Family away for the whole window" in page
    assert "Window" in page and "Trial 6 months" in page


# --- treatment through the seam -----------------------------------------------------------------


@pytest.mark.parametrize("arm", ["waiting", "mau"])
def test_gbo_for_a_family_not_randomised_to_mst_is_refused_through_the_seam(alice, families, arm):
    with pytest.raises(ProtocolRefused):
        services.assessment_record(
            by=alice,
            young_person=families[arm],
            instrument="gbo",
            respondent="parent",
            completed_on=today(),
            mode="paper",
            responses={"goal_1": 4},
        )
    assert not Assessment.objects.unscoped().exists()
    event = AuditEvent.objects.get(action="cases.protocol.refused")
    assert event.data["attempt"] == "measures.assessment.recorded"


def test_http_gbo_for_an_unrandomised_family_is_refused(client, alice, families):
    client.force_login(alice)
    url = reverse("measures:enter", args=["AAA-0503", "gbo", "parent"])
    response = client.post(url, _post(item_goal_1=4))
    assert response.status_code == 400
    assert "has not been randomised" in response.content.decode()
    assert AuditEvent.objects.filter(action="cases.protocol.refused").exists()


# --- blinding ------------------------------------------------------------------------------------

TREATMENT_URLS = [
    ("measures:enter", ["gbo", "parent"]),
    ("measures:enter", ["tam-r", "parent"]),
    ("measures:enter", ["mst-discharge", "therapist"]),
    ("measures:enter", ["sdq-p", "parent"]),
    ("measures:not_done", ["mst-service", "month_1", "gbo", "parent"]),
    ("measures:not_done", ["mst-service", "baseline", "sdq-p", "parent"]),
    ("measures:link", ["gbo", "parent"]),
]


def _same(html: str, person) -> str:
    return html.replace(person.study_id, "ID")


@pytest.mark.parametrize(("name", "args"), TREATMENT_URLS)
def test_treatment_urls_answer_a_blinded_user_the_same_for_mst_and_mau(
    client, bob, families, name, args
):
    client.force_login(bob)
    answers = []
    for arm in ("mst", "mau"):
        person = families[arm]
        response = client.get(reverse(name, args=[person.study_id, *args]))
        answers.append((response.status_code, _same(response.content.decode(), person)))
    assert answers[0] == answers[1]
    assert answers[0][0] == 404


def test_a_blinded_user_posting_a_treatment_measure_is_refused_the_same_for_both_arms(
    bob, families
):
    messages = []
    for arm in ("mst", "mau"):
        with pytest.raises(ValidationError) as error:
            services.assessment_record(
                by=bob,
                young_person=families[arm],
                instrument="gbo",
                respondent="parent",
                completed_on=today(),
                mode="paper",
                responses={"goal_1": 4},
            )
        messages.append(error.value.messages)
    assert messages[0] == messages[1]
    assert len(refusals("treatment_measure_blinded")) == 2


def test_the_blinded_measures_page_offers_only_trial_instruments_alike_for_both_arms(
    client, bob, families
):
    client.force_login(bob)
    pages = []
    for arm in ("mst", "mau"):
        person = families[arm]
        html = client.get(reverse("measures:person", args=[person.study_id])).content.decode()
        assert "/enter/gbo/" not in html and "/enter/tam-r/" not in html
        assert f"/measures/{person.study_id}/enter/apq9/parent/" in html
        pages.append(re.findall(r'href="([^"]+)"', _same(html, person)))
    assert pages[0] == pages[1]


def test_entered_by_shows_a_role_to_a_blinded_viewer_and_the_name_to_others(
    client, bob, manager, families
):
    colleague = member(
        Role.RESEARCH_WORKER, families["mau"].site, first_name="Rita", last_name="Reed"
    )
    saved = apq9(colleague, families["mau"])
    url = reverse("measures:assessment", args=["AAA-0502", saved.pk])
    client.force_login(bob)
    page = client.get(url).content.decode()
    assert "A research worker" in page and "Rita Reed" not in page
    client.force_login(manager)
    assert "Rita Reed" in client.get(url).content.decode()


# --- the provider interface -----------------------------------------------------------------------


def test_research_anchors_come_from_the_trial_in_one_query(families, django_assert_num_queries):
    ids = [p.pk for p in families.values()]
    with django_assert_num_queries(1):
        found = anchors.research_anchors(ids)
    assert found[families["mst"].pk].randomised_on == today() - dt.timedelta(days=DAYS_AGO)
    assert found[families["waiting"].pk].randomised_on is None
    assert found[families["waiting"].pk].consented_on == today() - dt.timedelta(days=DAYS_AGO + 7)
    assert all(a.in_trial for a in found.values())


def test_measures_never_import_the_trial():
    root = Path(anchors.__file__).resolve().parent
    offenders = [
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if "tests" not in path.parts and "mstoutcomes.trial" in path.read_text(encoding="utf-8")
    ]
    assert offenders == []


def _post(*, on=None, timepoint="", **answers):
    on = on or today()
    return {
        "completed_on_0": on.day,
        "completed_on_1": on.month,
        "completed_on_2": on.year,
        "mode": "paper",
        "respondent_name": "",
        "timepoint": timepoint,
        "out_of_window_reason": "",
        **answers,
    }


def test_a_therapist_is_offered_no_trial_only_instrument_or_trial_timepoint(
    client, alice, families
):
    client.force_login(alice)
    html = client.get(reverse("measures:person", args=["AAA-0501"])).content.decode()
    assert "/enter/apq9/parent/" not in html and "/enter/icu/parent/" not in html
    assert "/not-done/trial/" not in html
    assert "/enter/gbo/parent/" in html  # the family is in MST: treatment measures stay


# --- counted apart: CONSORT and the analysis dataset ------------------------------------------


def test_an_out_of_window_follow_up_is_counted_apart_on_consort_and_flagged_in_the_dataset(
    bob, families, site_a
):
    from mstoutcomes.analysis.datasets import measures_source
    from mstoutcomes.trial.models import Trial
    from mstoutcomes.trial.selectors import consort_dispositions

    late = today() - dt.timedelta(days=DAYS_AGO - 100)
    sdq = {"emotion": 3, "conduct": 4, "hyper": 5, "peer": 2, "prosocial": 6}
    for person, on, reason in ((families["mau"], late, "Family away"), (families["mst"], None, "")):
        services.assessment_record(
            by=bob,
            young_person=person,
            instrument="sdq-s",
            respondent="young_person",
            completed_on=on or today(),
            mode="paper",
            entered=sdq,
            timepoint="t6",
            out_of_window_reason=reason,
        )
    trial = Trial.objects.get()
    states = {
        d.participant_id: d.follow_up.get("t6")
        for d in consort_dispositions(trial=trial, cut_off=today())
    }
    assert states["AAA-0502"] == "followed_up_out_of_window"
    assert states["AAA-0501"] == "followed_up"
    frame = measures_source(site_ids=[site_a.pk], as_of=today())
    flags = {
        sid: flag
        for sid, outcome, flag in zip(
            frame["participant_id"], frame["outcome"], frame["out_of_window"], strict=True
        )
        if outcome == "sdq_s_total"
    }
    assert flags == {"AAA-0502": "1", "AAA-0501": "0"}


def test_the_contract_reads_the_out_of_window_flag_and_refuses_other_values():
    import pandas as pd

    from mstoutcomes.analysis.contract import _validate_measurements

    frame = pd.DataFrame(
        {
            "participant_id": ["p1", "p1", "p2"],
            "outcome": ["sdq", "sdq", "sdq"],
            "timepoint": ["t0", "t6", "t6"],
            "value": ["10", "8", "9"],
            "out_of_window": ["0", "1", "yes"],
        }
    )
    problems: list = []
    out = _validate_measurements(frame, {"p1", "p2"}, problems)
    assert list(out["out_of_window"]) == [False, True, False]
    assert [p.column for p in problems] == ["out_of_window"]


def test_links_follow_the_same_rules_as_entering(alice, bob, families):
    with pytest.raises(ValidationError, match="only a research worker or the trial manager"):
        services.response_link_create(
            by=alice, young_person=families["mst"], instrument="srd", respondent="parent"
        )
    with pytest.raises(ProtocolRefused):
        services.response_link_create(
            by=alice, young_person=families["mau"], instrument="gbo", respondent="parent"
        )
    link, _ = services.response_link_create(
        by=bob, young_person=families["mau"], instrument="srd", respondent="parent"
    )
    assert link.created_by == bob
    assert (
        refusals("assessor_only")
        and AuditEvent.objects.filter(action="cases.protocol.refused").exists()
    )
