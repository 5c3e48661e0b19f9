import datetime as dt

import pytest
from django.urls import reverse

from mstoutcomes.accounts.models import AuditEvent, Role
from mstoutcomes.accounts.tests.factories import member
from mstoutcomes.cases.tests.factories import YoungPersonFactory
from mstoutcomes.trial.models import Allocation, Participant
from mstoutcomes.trial.services import participant_enrol
from mstoutcomes.trial.tests.conftest import complete_baseline, consent_form, make_trial

pytestmark = pytest.mark.django_db


def dated(prefix, name, value):
    return {
        f"{prefix}-{name}_0": value.day,
        f"{prefix}-{name}_1": value.month,
        f"{prefix}-{name}_2": value.year,
    }


@pytest.fixture
def other_manager(site_b):
    return member(Role.TRIAL_MANAGER, site_b, username="otto")


def test_personas_on_the_trial_pages(
    client, trial, young_person, trial_manager, bob, other_manager
):
    participant = participant_enrol(by=None, trial=trial, young_person=young_person)
    pages = [
        reverse("trial:detail", args=[trial.code]),
        reverse("trial:participant", args=[trial.code, participant.pk]),
        reverse("trial:consort", args=[trial.code]),
    ]
    client.force_login(trial_manager)
    assert [client.get(u).status_code for u in pages] == [200, 200, 200]
    client.force_login(bob)  # research worker: blind, may not randomise
    assert [client.get(u).status_code for u in pages] == [403, 403, 403]
    client.force_login(other_manager)  # another site's trial manager
    assert [client.get(u).status_code for u in pages] == [404, 404, 404]


def test_enrol_consent_and_randomise_through_the_pages(client, trial, young_person, trial_manager):
    client.force_login(trial_manager)
    response = client.post(
        reverse("trial:detail", args=[trial.code]), {"study_id": young_person.study_id}
    )
    participant = Participant.objects.unscoped().get()
    assert response["Location"] == reverse("trial:participant", args=[trial.code, participant.pk])
    url = response["Location"]
    randomise = reverse("trial:randomise", args=[trial.code, participant.pk])

    refused = client.post(randomise, follow=True)
    assert "Not randomised" in refused.content.decode()
    assert not Allocation.objects.unscoped().exists()

    today = dt.date.today()
    client.post(
        url,
        {
            "action": "eligibility",
            "eligibility-eligible": "yes",
            **dated("eligibility", "on", today),
        },
    )
    for kind in ("carer_consent", "young_person_assent"):
        client.post(
            url,
            {
                "action": "consent",
                "consent-form": consent_form(trial, kind).pk,
                "consent-given": "yes",
                **dated("consent", "recorded_on", today),
            },
        )
    # Baseline before randomisation: refused (audited) and the page lists what is missing.
    refused = client.post(randomise, follow=True).content.decode()
    assert "baseline assessments are not complete" in refused
    assert "APQ-9 (parent)" in refused
    assert not Allocation.objects.unscoped().exists()
    assert AuditEvent.objects.filter(
        action="trial.randomisation.refused", data__reason="baseline_incomplete"
    ).exists()
    complete_baseline(participant)
    done = client.post(randomise, follow=True).content.decode()
    assert "Randomised to" in done
    assert Allocation.objects.unscoped().filter(participant=participant).count() == 1
    assert AuditEvent.objects.filter(action="trial.participant.randomised").count() == 1


def test_consent_form_errors_name_the_field(client, trial, young_person, trial_manager):
    participant = participant_enrol(by=None, trial=trial, young_person=young_person)
    client.force_login(trial_manager)
    response = client.post(
        reverse("trial:participant", args=[trial.code, participant.pk]),
        {"action": "consent"},
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "Select whether consent was given" in html
    assert "Select the consent form the family signed" in html


@pytest.mark.parametrize(
    ("action", "fields", "message"),
    [
        (
            "consent",
            {"consent-given": "yes"},
            "A consent cannot be dated in the future.",
        ),
        ("eligibility", {"eligibility-eligible": "yes"}, "cannot be confirmed on a date in the"),
        ("withdrawal", {"withdrawal-level": "treatment"}, "cannot be dated in the future"),
    ],
)
def test_a_future_date_on_the_participant_page_is_refused_and_nothing_is_saved(
    client, trial, young_person, trial_manager, action, fields, message
):
    participant = participant_enrol(by=None, trial=trial, young_person=young_person)
    client.force_login(trial_manager)
    if action == "consent":
        fields = {**fields, "consent-form": consent_form(trial, "carer_consent").pk}
    field = {"consent": "recorded_on"}.get(action, "on")
    tomorrow = dt.date.today() + dt.timedelta(days=1)
    response = client.post(
        reverse("trial:participant", args=[trial.code, participant.pk]),
        {"action": action, **fields, **dated(action, field, tomorrow)},
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    participant.refresh_from_db()
    assert participant.eligibility_confirmed_on is None
    assert not participant.consents.exists() and not participant.withdrawals.exists()


def test_consort_page_shows_counts_and_downloads_csv(client, trial, site_a, trial_manager):
    for _ in range(3):
        participant_enrol(by=None, trial=trial, young_person=YoungPersonFactory(site=site_a))
    client.force_login(trial_manager)
    html = client.get(reverse("trial:consort", args=[trial.code])).content.decode()
    assert "Assessed for eligibility (n=3)" in html
    assert "withheld" not in html  # minimisation: no block sizes to withhold
    csv_response = client.get(reverse("trial:consort", args=[trial.code]), {"format": "csv"})
    assert csv_response["Content-Type"] == "text/csv"
    assert "Enrolment,Assessed for eligibility,3" in csv_response.content.decode()


def test_box_links_list_only_participants_the_user_may_see(client, site_a, site_b, trial_manager):
    trial = make_trial(
        site_a, code="TWO-SITES", factors=[{"name": "site", "categories": ["AAA", "BBB"]}]
    )
    trial.sites.add(site_b)
    here = participant_enrol(by=None, trial=trial, young_person=YoungPersonFactory(site=site_a))
    participant_enrol(by=None, trial=trial, young_person=YoungPersonFactory(site=site_b))
    client.force_login(trial_manager)
    html = client.get(
        reverse("trial:participants", args=[trial.code]), {"box": "assessed"}
    ).content.decode()
    assert here.young_person.study_id in html
    assert "1 participant you may see" in html
    assert (
        client.get(
            reverse("trial:participants", args=[trial.code]), {"box": "nonsense"}
        ).status_code
        == 404
    )


def test_trial_list_shows_the_sites_trials(client, trial, trial_manager, other_manager):
    client.force_login(trial_manager)
    assert trial.code in client.get(reverse("trial:list")).content.decode()
    client.force_login(other_manager)
    assert "take part in no trial yet" in client.get(reverse("trial:list")).content.decode()


def test_revealing_an_allocation_needs_a_reason_and_is_audited_without_the_arm(
    client, trial, young_person, trial_manager
):
    from mstoutcomes.trial.services import participant_randomise
    from mstoutcomes.trial.tests.conftest import ready

    participant = ready(
        participant_enrol(by=None, trial=trial, young_person=young_person), trial_manager
    )
    allocation = participant_randomise(by=trial_manager, participant=participant)
    url = reverse("trial:reveal", args=[trial.code, participant.pk])
    client.force_login(trial_manager)
    missing = client.post(url, {"reason": " "})
    assert missing.status_code == 400
    assert "Enter why you need to see the allocation" in missing.content.decode()
    shown = client.post(url, {"reason": "Safeguarding review"}).content.decode()
    arm_name = {a.code: a.name for a in trial.spec.arms}[allocation.arm]
    assert arm_name in shown
    event = AuditEvent.objects.get(action="trial.allocation.unblinded")
    assert event.data["reason"] == "Safeguarding review"
    assert allocation.arm not in str(event.data) and arm_name not in str(event.data)


def test_blinded_research_worker_cannot_reveal(client, trial, young_person, bob):
    participant = participant_enrol(by=None, trial=trial, young_person=young_person)
    client.force_login(bob)
    url = reverse("trial:reveal", args=[trial.code, participant.pk])
    assert client.post(url, {"reason": "curious"}).status_code == 403


def test_recruitment_page_counts_randomisations_balance_and_follow_up(
    client, trial, site_a, trial_manager, bob
):
    from mstoutcomes.measures.tests.factories import AssessmentFactory
    from mstoutcomes.trial.services import participant_randomise
    from mstoutcomes.trial.tests.conftest import ready

    people = [YoungPersonFactory(site=site_a, sex="female") for _ in range(3)]
    for person in people:
        participant = ready(
            participant_enrol(by=None, trial=trial, young_person=person),
            trial_manager,
            baseline=False,
        )
        participant_randomise(
            by=trial_manager, participant=participant, baseline_waiver_reason="Family moved soon"
        )
    AssessmentFactory(young_person=people[0], schedule="trial", timepoint="t0")
    url = reverse("trial:recruitment", args=[trial.code])
    client.force_login(trial_manager)
    response = client.get(url)
    html = response.content.decode()
    rows = {
        (label, arm): (due, done) for label, arm, due, done in response.context["data"].follow_up
    }
    assert "Site A" in html
    balance = response.context["data"].balance
    assert sum(sum(c.values()) for f, _, c in balance if f == "Sex") == 3
    assert {level for f, level, _ in balance if f == "Sex"} == {"Female", "Male", "Not known"}
    # Only the trial's own sites are listed, by name (the configuration also names BBB).
    assert [level for f, level, _ in balance if f == "Site"] == ["Site A"]
    baseline = [v for (label, _), v in rows.items() if label == "Trial baseline"]
    assert sum(due for due, _ in baseline) == 3 and sum(done for _, done in baseline) == 1
    assert all(due == 0 for (label, _), (due, _) in rows.items() if label == "Trial 6 months")
    client.force_login(bob)
    assert client.get(url).status_code == 403


def test_recruitment_target_must_be_a_whole_number():
    from mstoutcomes.trial.config import TrialConfigError, parse_trial_config
    from mstoutcomes.trial.tests.conftest import CONFIG

    spec = parse_trial_config(
        {**CONFIG, "method": "blocks", "recruitment": {"target_per_site_month": 3}}
    )
    assert spec.target_per_site_month == 3
    with pytest.raises(TrialConfigError, match="target_per_site_month"):
        parse_trial_config(
            {**CONFIG, "method": "blocks", "recruitment": {"target_per_site_month": -1}}
        )


def test_consort_pdf_has_the_diagram_counts_and_method_and_is_audited(
    client, trial, site_a, trial_manager, bob, other_manager
):
    from mstoutcomes.trial.services import participant_randomise
    from mstoutcomes.trial.tests.conftest import ready

    for _ in range(2):
        participant = ready(
            participant_enrol(by=None, trial=trial, young_person=YoungPersonFactory(site=site_a)),
            trial_manager,
        )
        participant_randomise(by=trial_manager, participant=participant)
    url = reverse("trial:consort_pdf", args=[trial.code])
    client.force_login(trial_manager)
    response = client.get(url, {"cut_off": dt.date.today().isoformat(), "site": site_a.pk})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    assert f"consort-{trial.code}-AAA-" in response["Content-Disposition"]
    event = AuditEvent.objects.get(action="trial.consort.exported")
    assert event.data["format"] == "pdf" and event.data["site"] == "AAA"
    statistician = member(Role.STATISTICIAN, site_a, username="stan")  # may not unblind
    for refused, code in ((bob, 403), (statistician, 403), (other_manager, 404)):
        client.force_login(refused)
        assert client.get(url).status_code == code
    assert AuditEvent.objects.filter(action="trial.consort.exported").count() == 1


def test_consort_pdf_text_shows_the_counts_and_the_method(trial, site_a, trial_manager):
    from mstoutcomes.core.pdf import render_pdf
    from mstoutcomes.trial.consort import consort_counts, consort_method_text, consort_svg
    from mstoutcomes.trial.selectors import consort_dispositions

    participant_enrol(by=None, trial=trial, young_person=YoungPersonFactory(site=site_a))
    counts = consort_counts(
        consort_dispositions(trial=trial, cut_off=dt.date.today()),
        arms=trial.spec.arm_codes,
        timepoints=["t6"],
        timepoint_labels={"t6": "Trial 6 months"},
    )
    pdf = render_pdf(
        "trial/consort_print.html",
        {
            "title": "CONSORT",
            "trial": trial,
            "site": None,
            "cut_off": dt.date.today(),
            "printed_on": dt.date.today(),
            "svg": consort_svg(counts),
            "rows": counts.rows(),
            "method_text": consort_method_text(trial.spec, reveal_block_sizes=False),
        },
        compress=False,
    )
    assert pdf.startswith(b"%PDF-") and b"/Type /Page" in pdf


def test_consort_csv_download_is_audited(client, trial, trial_manager):
    client.force_login(trial_manager)
    client.get(reverse("trial:consort", args=[trial.code]), {"format": "csv"})
    event = AuditEvent.objects.get(action="trial.consort.exported")
    assert event.data["format"] == "csv" and event.data["site"] == ""


def test_consort_page_has_follow_up_boxes_linked_to_their_participants(
    client, trial, site_a, trial_manager
):
    from mstoutcomes.trial.services import participant_randomise
    from mstoutcomes.trial.tests.conftest import ready

    participant = ready(
        participant_enrol(by=None, trial=trial, young_person=YoungPersonFactory(site=site_a)),
        trial_manager,
    )
    arm = participant_randomise(by=trial_manager, participant=participant).arm
    client.force_login(trial_manager)
    html = client.get(reverse("trial:consort", args=[trial.code])).content.decode()
    for label in ("Follow-up: Trial 6 months", "Follow-up: Trial 12 months", "Trial 18 months"):
        assert label in html
    assert "Not yet due (n=1)" in html and "Discontinued intervention (n=0)" in html
    assert f"box=follow_up:{arm}:t6" in html and f"box=analysed:{arm}" in html
    box = client.get(
        reverse("trial:participants", args=[trial.code]), {"box": f"follow_up:{arm}:t6"}
    )
    assert box.context["people"] == [(participant.young_person.study_id, "Not yet due")]
    missing = client.get(
        reverse("trial:participants", args=[trial.code]), {"box": f"follow_up:{arm}:t99"}
    )
    assert missing.status_code == 404


def test_recruitment_page_draws_charts_beside_the_tables(client, trial, site_a, trial_manager):
    from mstoutcomes.trial.services import participant_randomise
    from mstoutcomes.trial.tests.conftest import ready

    client.force_login(trial_manager)
    url = reverse("trial:recruitment", args=[trial.code])
    assert "<svg" not in client.get(url).content.decode()  # nothing to draw yet
    participant = ready(
        participant_enrol(by=None, trial=trial, young_person=YoungPersonFactory(site=site_a)),
        trial_manager,
    )
    participant_randomise(by=trial_manager, participant=participant)
    response = client.get(url)
    html = response.content.decode()
    assert 'aria-label="Randomised so far against target, all sites"' in html
    assert 'aria-label="Randomised by site (target so far)"' in html
    assert response.context["sites"] == [{"site": "Site A", "randomised": 1, "target": 0}]
    assert response.context["total_rows"][-1][1] == 1


def test_recruitment_months_run_from_the_first_randomisation_to_this_month():
    from mstoutcomes.trial.selectors import _calendar_months

    assert _calendar_months(set(), dt.date(2026, 3, 1)) == []
    assert _calendar_months({"2025-11", "2026-02"}, dt.date(2026, 3, 9)) == [
        "2025-11",
        "2025-12",
        "2026-01",
        "2026-02",
        "2026-03",
    ]
