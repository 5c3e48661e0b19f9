"""The rules as plain functions over facts: no database."""

import datetime as dt

from mstoutcomes.quality import rules
from mstoutcomes.quality.rules import (
    AssessmentFact,
    ConsentFact,
    DatedRecord,
    Facts,
    Participation,
    Person,
    run_rules,
)

BORN = dt.date(2011, 5, 1)
RANDOMISED = dt.date(2025, 6, 2)


def person(pk=1, site=10, **changes):
    fields = {
        "id": pk,
        "site_id": site,
        "site_name": f"Site {site}",
        "study_id": f"S-{pk:03d}",
        "date_of_birth": BORN,
        "nhs_number": "",
        "given_name": f"Given{pk}",
        "family_name": f"Family{pk}",
        **changes,
    }
    return Person(**fields)


def participation(pk=1, person_id=1, randomised_on=RANDOMISED, enrolled_on=dt.date(2025, 5, 1)):
    return Participation(pk, person_id, 7, "START", 10, enrolled_on, randomised_on)


def assessment(pk=1, person_id=1, timepoint="t0", completed_on=RANDOMISED, **changes):
    fields = {
        "id": pk,
        "young_person_id": person_id,
        "instrument": "sdq-s",
        "respondent": "young_person",
        "schedule": "trial",
        "timepoint": timepoint,
        "status": "completed",
        "completed_on": completed_on,
        "out_of_window": False,
        **changes,
    }
    return AssessmentFact(**fields)


def facts(**parts):
    people = parts.pop("people", [person()])
    return Facts(people={p.id: p for p in people}, **parts)


def codes(found):
    return [f.rule for f in found]


def test_a_randomised_participant_without_a_completed_baseline_is_found():
    found = run_rules(facts(participations=[participation()]))
    assert codes(found) == [rules.MISSING_BASELINE]
    assert found[0].key == "missing_baseline:participant:1"
    assert "S-001 was randomised in START on 2 June 2025" in found[0].message
    assert found[0].trial_id == 7 and found[0].site_id == 10 and not found[0].reveals_arm


def test_a_completed_baseline_satisfies_the_missing_baseline_rule():
    assert run_rules(facts(participations=[participation()], assessments=[assessment()])) == []


def test_a_missed_baseline_or_an_unrandomised_participant_raises_no_missing_baseline_query():
    missed = assessment(status="missed", completed_on=None)
    assert codes(run_rules(facts(participations=[participation()], assessments=[missed]))) == [
        rules.MISSING_BASELINE
    ]
    assert run_rules(facts(participations=[participation(randomised_on=None)])) == []


def test_an_assessment_saved_out_of_window_is_found_and_stays_arm_neutral_on_the_trial_schedule():
    late = assessment(2, timepoint="t6", completed_on=dt.date(2026, 2, 1), out_of_window=True)
    found = run_rules(facts(participations=[participation()], assessments=[assessment(), late]))
    assert codes(found) == [rules.OUT_OF_WINDOW]
    assert found[0].key == "out_of_window:assessment:2"
    assert not found[0].reveals_arm


def test_a_late_service_measure_is_not_a_trial_query_and_a_treatment_instrument_reveals_the_arm():
    gbo = assessment(pk=5, schedule="mst", instrument="gbo", out_of_window=True)
    assert run_rules(facts(assessments=[gbo], neutral_schedules=frozenset({"trial"}))) == []
    on_trial = assessment(pk=6, schedule="trial", instrument="gbo", out_of_window=True)
    found = run_rules(
        facts(
            assessments=[on_trial],
            neutral_schedules=frozenset({"trial"}),
            treatment_instruments=frozenset({"gbo"}),
        )
    )
    assert codes(found) == [rules.OUT_OF_WINDOW]
    assert found[0].reveals_arm


def test_an_offence_dated_before_birth_is_found_and_one_after_is_not():
    before = DatedRecord("offence", "outcomes.offence", 3, 1, BORN - dt.timedelta(days=1))
    after = DatedRecord("offence", "outcomes.offence", 4, 1, BORN)
    found = run_rules(facts(records=[before, after]))
    assert [f.key for f in found] == ["dated_before_birth:outcomes.offence:3"]
    assert "has an offence dated 30 April 2011, before their date of birth" in found[0].message


def test_a_follow_up_completed_before_randomisation_is_found_but_the_baseline_is_not():
    early = assessment(pk=2, timepoint="t6", completed_on=RANDOMISED - dt.timedelta(days=1))
    baseline = assessment(pk=1, completed_on=RANDOMISED - dt.timedelta(days=10))
    found = run_rules(facts(participations=[participation()], assessments=[baseline, early]))
    assert [f.key for f in found] == ["follow_up_before_randomisation:assessment:2"]


def test_a_consent_dated_before_enrolment_is_found():
    consent = ConsentFact(9, 1, "Carer consent to take part", dt.date(2025, 4, 30))
    on_the_day = ConsentFact(10, 1, "Young person's assent", dt.date(2025, 5, 1))
    found = run_rules(
        facts(participations=[participation(randomised_on=None)], consents=[consent, on_the_day])
    )
    assert [f.key for f in found] == ["consent_before_enrolment:consent:9"]
    assert "carer consent to take part" in found[0].message


def test_the_same_nhs_number_at_two_sites_gives_each_site_a_query_about_its_own_record():
    a = person(1, site=10, nhs_number="9434765919")
    b = person(2, site=20, nhs_number="9434765919")
    found = run_rules(facts(people=[a, b]))
    assert [(f.key, f.site_id) for f in found] == [
        ("same_person_two_sites:1:2", 10),
        ("same_person_two_sites:2:1", 20),
    ]
    assert "the same NHS number as S-002 at Site 20" in found[0].message


def test_the_same_name_and_birth_date_at_two_sites_is_found_whatever_the_case():
    a = person(1, site=10, given_name="Jo", family_name="Smith")
    b = person(2, site=20, given_name="JO ", family_name="smith")
    found = run_rules(facts(people=[a, b]))
    assert len(found) == 2
    assert "the same name and date of birth" in found[0].message


def test_the_same_person_twice_at_one_site_is_not_a_two_site_problem():
    a = person(1, site=10, nhs_number="9434765919")
    b = person(2, site=10, nhs_number="9434765919")
    assert run_rules(facts(people=[a, b])) == []


def test_every_rule_is_assigned_to_a_role_that_can_see_queries():
    from mstoutcomes.accounts.permissions import ROLE_PERMISSIONS, Perm

    for rule in rules.RULES:
        assert Perm.VIEW_QUERIES in ROLE_PERMISSIONS[rule.assigned_role], rule.code


def test_keys_are_stable_fingerprints_without_dates_or_messages():
    found = run_rules(facts(participations=[participation()]))
    again = run_rules(
        facts(participations=[participation(randomised_on=RANDOMISED + dt.timedelta(days=3))])
    )
    assert [f.key for f in found] == [f.key for f in again]
