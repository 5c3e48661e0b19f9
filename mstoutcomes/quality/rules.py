"""The data-quality rules: plain checks over facts fetched once, and the one fetch.

Each rule is a function from ``Facts`` to the ``Finding`` s it sees. A finding's ``key`` is a stable
fingerprint of the problem (the rule's code and the rows involved, never a date or a message), so
the engine in ``services.quality_run`` opens at most one query per problem and closes it
automatically when the rule stops finding it. The checks need no database; ``fetch_facts`` reads
everything they need in a fixed number of queries, whatever the number of people.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from mstoutcomes.accounts.models import Role

TRIAL_SCHEDULE = "trial"
BASELINE = "t0"
COMPLETED = "completed"

MISSING_BASELINE = "missing_baseline"
OUT_OF_WINDOW = "out_of_window"
DATED_BEFORE_BIRTH = "dated_before_birth"
FOLLOW_UP_BEFORE_RANDOMISATION = "follow_up_before_randomisation"
CONSENT_BEFORE_ENROLMENT = "consent_before_enrolment"
SAME_PERSON_TWO_SITES = "same_person_two_sites"
# Treatment recorded against the protocol order (from trial.order.order_breaches).
TREATMENT_BEFORE_RANDOMISATION = "treatment_before_randomisation"


@dataclass(frozen=True)
class Person:
    id: int
    site_id: int
    site_name: str
    study_id: str
    date_of_birth: dt.date
    nhs_number: str = ""
    given_name: str = ""
    family_name: str = ""

    @property
    def name_key(self) -> tuple[str, str, dt.date] | None:
        given, family = self.given_name.strip().lower(), self.family_name.strip().lower()
        if not given or not family:
            return None
        return (given, family, self.date_of_birth)


@dataclass(frozen=True)
class Participation:
    """A young person in a trial, with the date they were randomised (None if not yet)."""

    id: int
    young_person_id: int
    trial_id: int
    trial_code: str
    site_id: int
    enrolled_on: dt.date
    randomised_on: dt.date | None = None


@dataclass(frozen=True)
class AssessmentFact:
    id: int
    young_person_id: int
    instrument: str
    respondent: str
    schedule: str
    timepoint: str
    status: str
    completed_on: dt.date | None
    out_of_window: bool = False


@dataclass(frozen=True)
class DatedRecord:
    """An outcomes record (offence, placement, ...) and the date it is about."""

    kind: str  # the record type, plain: "offence", "placement"
    model: str  # a stable name for the key: "outcomes.offence"
    id: int
    young_person_id: int
    on: dt.date


@dataclass(frozen=True)
class ConsentFact:
    id: int
    participant_id: int
    kind: str  # plain label: "Carer consent to take part"
    recorded_on: dt.date


@dataclass(frozen=True)
class BreachFact:
    """Treatment records of one kind that break the protocol order (trial.order.OrderBreach)."""

    participant_id: int
    young_person_id: int
    trial_id: int
    trial_code: str
    kind: str
    kind_label: str
    on: dt.date
    detail: str


@dataclass(frozen=True)
class Facts:
    """Everything the rules read, fetched in one go."""

    people: dict[int, Person] = field(default_factory=dict)
    # The young people whose data were all read (None: everyone). Others in ``people`` came only
    # as candidates for the duplicate rule, so a problem not found for them may still be there.
    in_scope: frozenset[int] | None = None
    participations: list[Participation] = field(default_factory=list)
    assessments: list[AssessmentFact] = field(default_factory=list)
    records: list[DatedRecord] = field(default_factory=list)
    consents: list[ConsentFact] = field(default_factory=list)
    breaches: list[BreachFact] = field(default_factory=list)
    # Schedules whose timepoints hang on arm-neutral dates (measures.blinding): an assessment
    # elsewhere, or of a treatment instrument, could reveal the arm.
    neutral_schedules: frozenset[str] = frozenset({TRIAL_SCHEDULE})
    treatment_instruments: frozenset[str] = frozenset()

    def trial_of(self, young_person_id: int) -> Participation | None:
        """Return the person's trial participation (the first by id), if any."""
        found = [p for p in self.participations if p.young_person_id == young_person_id]
        return min(found, key=lambda p: p.id) if found else None


@dataclass(frozen=True)
class Finding:
    """One problem a rule found: where, about whom, and what to say."""

    rule: str
    key: str
    site_id: int
    message: str
    young_person_id: int | None = None
    trial_id: int | None = None
    reveals_arm: bool = False


Check = Callable[[Facts], Iterable[Finding]]


@dataclass(frozen=True)
class Rule:
    code: str
    title: str
    assigned_role: str
    check: Check
    reveals_arm: bool = False


def _date(value: dt.date) -> str:
    return f"{value.day} {value:%B %Y}"


def _trial_ids(facts: Facts) -> dict[int, int]:
    """Map young person to trial (their first participation)."""
    out: dict[int, int] = {}
    for p in sorted(facts.participations, key=lambda p: p.id):
        out.setdefault(p.young_person_id, p.trial_id)
    return out


def missing_baseline(facts: Facts) -> Iterator[Finding]:
    """A randomised participant has no completed trial baseline (t0) assessment."""
    with_baseline = {
        a.young_person_id
        for a in facts.assessments
        if a.schedule == TRIAL_SCHEDULE and a.timepoint == BASELINE and a.status == COMPLETED
    }
    for p in facts.participations:
        person = facts.people.get(p.young_person_id)
        if p.randomised_on is None or person is None or p.young_person_id in with_baseline:
            continue
        yield Finding(
            rule=MISSING_BASELINE,
            key=f"{MISSING_BASELINE}:participant:{p.id}",
            site_id=person.site_id,
            young_person_id=person.id,
            trial_id=p.trial_id,
            message=(
                f"{person.study_id} was randomised in {p.trial_code} on "
                f"{_date(p.randomised_on)} but has no completed trial baseline assessment. "
                "Enter the baseline, or say why it was not collected."
            ),
        )


def out_of_window(facts: Facts) -> Iterator[Finding]:
    """A trial outcome assessment was saved as out of its timepoint's window.

    Only the trial's own (arm-neutral) schedules: a therapist's late service measure is part of
    running the service, not a query on the trial's data.
    """
    trials = _trial_ids(facts)
    for a in facts.assessments:
        person = facts.people.get(a.young_person_id)
        if not a.out_of_window or person is None or a.schedule not in facts.neutral_schedules:
            continue
        when = f" on {_date(a.completed_on)}" if a.completed_on else ""
        yield Finding(
            rule=OUT_OF_WINDOW,
            key=f"{OUT_OF_WINDOW}:assessment:{a.id}",
            site_id=person.site_id,
            young_person_id=person.id,
            trial_id=trials.get(person.id),
            reveals_arm=(
                a.schedule not in facts.neutral_schedules
                or a.instrument in facts.treatment_instruments
            ),
            message=(
                f"{person.study_id}'s {a.instrument.upper()} ({a.respondent.replace('_', ' ')}) "
                f"at timepoint {a.timepoint or 'not recorded'} was collected{when}, outside its "
                "window. Check the date and the reason recorded."
            ),
        )


def dated_before_birth(facts: Facts) -> Iterator[Finding]:
    """An offence or other outcomes record is dated before the young person was born."""
    trials = _trial_ids(facts)
    for r in facts.records:
        person = facts.people.get(r.young_person_id)
        if person is None or r.on >= person.date_of_birth:
            continue
        yield Finding(
            rule=DATED_BEFORE_BIRTH,
            key=f"{DATED_BEFORE_BIRTH}:{r.model}:{r.id}",
            site_id=person.site_id,
            young_person_id=person.id,
            trial_id=trials.get(person.id),
            message=(
                f"{person.study_id} has {_article(r.kind)} {r.kind} dated {_date(r.on)}, before "
                f"their date of birth ({_date(person.date_of_birth)}). Correct the record's date "
                "or the date of birth."
            ),
        )


def follow_up_before_randomisation(facts: Facts) -> Iterator[Finding]:
    """A trial follow-up assessment was completed before the participant was randomised."""
    randomised: dict[int, Participation] = {}
    for each in sorted(facts.participations, key=lambda each: each.id):
        if each.randomised_on is not None:
            randomised.setdefault(each.young_person_id, each)
    for a in facts.assessments:
        p = randomised.get(a.young_person_id)
        person = facts.people.get(a.young_person_id)
        if (
            p is None
            or person is None
            or p.randomised_on is None
            or a.schedule != TRIAL_SCHEDULE
            or a.timepoint in ("", BASELINE)
            or a.status != COMPLETED
            or a.completed_on is None
            or a.completed_on >= p.randomised_on
        ):
            continue
        yield Finding(
            rule=FOLLOW_UP_BEFORE_RANDOMISATION,
            key=f"{FOLLOW_UP_BEFORE_RANDOMISATION}:assessment:{a.id}",
            site_id=person.site_id,
            young_person_id=person.id,
            trial_id=p.trial_id,
            message=(
                f"{person.study_id}'s {a.instrument.upper()} for follow-up {a.timepoint} is dated "
                f"{_date(a.completed_on)}, before randomisation on {_date(p.randomised_on)}. "
                "Check the date completed and the timepoint."
            ),
        )


def consent_before_enrolment(facts: Facts) -> Iterator[Finding]:
    """A consent is dated before the participant was enrolled in the trial."""
    participations = {p.id: p for p in facts.participations}
    for c in facts.consents:
        p = participations.get(c.participant_id)
        person = facts.people.get(p.young_person_id) if p else None
        if p is None or person is None or c.recorded_on >= p.enrolled_on:
            continue
        yield Finding(
            rule=CONSENT_BEFORE_ENROLMENT,
            key=f"{CONSENT_BEFORE_ENROLMENT}:consent:{c.id}",
            site_id=person.site_id,
            young_person_id=person.id,
            trial_id=p.trial_id,
            message=(
                f"{person.study_id}'s {c.kind.lower()} in {p.trial_code} is dated "
                f"{_date(c.recorded_on)}, before they were enrolled on {_date(p.enrolled_on)}. "
                "Check both dates."
            ),
        )


def same_person_two_sites(facts: Facts) -> Iterator[Finding]:
    """The same young person seems to be recorded at two sites (NHS number, or name and birth).

    Each site gets its own query about its own record, naming the other by study ID.
    """
    trials = _trial_ids(facts)
    groups: dict[object, list[Person]] = defaultdict(list)
    for person in facts.people.values():
        if person.nhs_number:
            groups[("nhs", person.nhs_number)].append(person)
        if person.name_key is not None:
            groups[("name", *person.name_key)].append(person)
    pairs: dict[tuple[int, int], str] = {}
    for group_key, members in groups.items():
        how = (
            "the same NHS number"
            if group_key[0] == "nhs"  # type: ignore[index]
            else "the same name and date of birth"
        )
        for a in members:
            for b in members:
                if a.site_id != b.site_id and (a.id, b.id) not in pairs:
                    pairs[(a.id, b.id)] = how
    for (this_id, other_id), how in sorted(pairs.items()):
        this, other = facts.people[this_id], facts.people[other_id]
        yield Finding(
            rule=SAME_PERSON_TWO_SITES,
            key=f"{SAME_PERSON_TWO_SITES}:{this.id}:{other.id}",
            site_id=this.site_id,
            young_person_id=this.id,
            trial_id=trials.get(this.id),
            message=(
                f"{this.study_id} has {how} as {other.study_id} at {other.site_name}. If they "
                "are the same young person, agree with the other site which record is kept."
            ),
        )


def treatment_out_of_order(facts: Facts) -> Iterator[Finding]:
    """MST treatment recorded before randomisation, for a family not randomised, or in MAU."""
    for b in facts.breaches:
        person = facts.people.get(b.young_person_id)
        if person is None:
            continue
        yield Finding(
            rule=TREATMENT_BEFORE_RANDOMISATION,
            key=f"{TREATMENT_BEFORE_RANDOMISATION}:participant:{b.participant_id}:{b.kind}",
            site_id=person.site_id,
            young_person_id=person.id,
            trial_id=b.trial_id,
            reveals_arm=True,
            message=(
                f"{person.study_id} in {b.trial_code}: {b.kind_label.lower()} "
                f"(from {_date(b.on)}: {b.detail}). Log it as a protocol deviation, or correct "
                "the records if they are wrong."
            ),
        )


def _all(model: Any) -> Any:
    """Return every row of a model, through unscoped() when its manager is scoped."""
    manager = model.objects
    return manager.unscoped() if hasattr(manager, "unscoped") else manager.all()


def _article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"


RULES: tuple[Rule, ...] = (
    Rule(MISSING_BASELINE, "Missing baseline", Role.RESEARCH_WORKER, missing_baseline),
    Rule(OUT_OF_WINDOW, "Assessment out of window", Role.RESEARCH_WORKER, out_of_window),
    Rule(
        DATED_BEFORE_BIRTH,
        "Record dated before birth",
        Role.PROGRAMME_MANAGER,
        dated_before_birth,
    ),
    Rule(
        FOLLOW_UP_BEFORE_RANDOMISATION,
        "Follow-up before randomisation",
        Role.RESEARCH_WORKER,
        follow_up_before_randomisation,
    ),
    Rule(
        CONSENT_BEFORE_ENROLMENT,
        "Consent before enrolment",
        Role.TRIAL_MANAGER,
        consent_before_enrolment,
    ),
    Rule(
        SAME_PERSON_TWO_SITES,
        "Same young person at two sites",
        Role.PROGRAMME_MANAGER,
        same_person_two_sites,
    ),
    Rule(
        TREATMENT_BEFORE_RANDOMISATION,
        "Treatment out of the protocol order",
        Role.TRIAL_MANAGER,
        treatment_out_of_order,
        reveals_arm=True,
    ),
)

RULES_BY_CODE: dict[str, Rule] = {rule.code: rule for rule in RULES}


def rule_title(code: str) -> str:
    """Return a rule's plain title ('Raised by hand' for manual queries)."""
    rule = RULES_BY_CODE.get(code)
    if rule is not None:
        return rule.title
    return "Raised by hand" if code == "manual" else code.replace("_", " ").capitalize()


def run_rules(facts: Facts, rules: Iterable[Rule] = RULES) -> list[Finding]:
    """Run the rules over the facts; a finding takes its rule's reveals_arm as a floor."""
    findings: dict[str, Finding] = {}
    for rule in rules:
        for finding in rule.check(facts):
            if rule.reveals_arm and not finding.reveals_arm:
                finding = Finding(**{**finding.__dict__, "reveals_arm": True})
            findings.setdefault(finding.key, finding)
    return sorted(findings.values(), key=lambda f: f.key)


# Outcomes records, the field that dates each, and what to call it (one query per model).
OUTCOME_DATES: tuple[tuple[str, str, str], ...] = (
    ("AttendancePeriod", "period_start", "school attendance period"),
    ("Exclusion", "start_date", "school exclusion"),
    ("Offence", "offence_date", "offence"),
    ("PoliceContact", "date", "police contact"),
    ("Placement", "start_date", "placement"),
    ("CustodyEpisode", "start_date", "custody episode"),
    ("MissingEpisode", "start_date", "missing episode"),
    ("ProsocialActivity", "start_date", "pro-social activity"),
)


def fetch_facts(
    *, site_id: int | None = None, young_person_ids: Collection[int] | None = None
) -> Facts:
    """Read what the rules need, for one site, some young people, or everyone.

    A fixed number of queries (people, duplicate candidates, participations, assessments,
    consents, and one per outcomes model), however many rows. The duplicate rule always sees
    candidates at every site, or it could not find the same young person at two.
    """
    from django.db.models import Q
    from django.utils import timezone

    from mstoutcomes.cases.models import YoungPerson
    from mstoutcomes.measures import blinding
    from mstoutcomes.measures.models import Assessment
    from mstoutcomes.outcomes import models as outcome_models
    from mstoutcomes.trial.models import ConsentRecord, Participant

    def narrowed(queryset, path: str = "young_person"):  # type: ignore[no-untyped-def]
        if young_person_ids is not None:
            queryset = queryset.filter(**{f"{path}_id__in": sorted(young_person_ids)})
        if site_id is not None:
            queryset = queryset.filter(**{f"{path}__site_id": site_id})
        return queryset

    person_fields = (
        "id",
        "site_id",
        "site__name",
        "study_id",
        "date_of_birth",
        "nhs_number",
        "given_name",
        "family_name",
    )
    chosen = YoungPerson.objects.unscoped()
    if young_person_ids is not None:
        chosen = chosen.filter(pk__in=sorted(young_person_ids))
    if site_id is not None:
        chosen = chosen.filter(site_id=site_id)
    people = {row[0]: Person(*row) for row in chosen.values_list(*person_fields)}
    scope = frozenset(people)
    nhs = sorted({p.nhs_number for p in people.values() if p.nhs_number})
    births = sorted({p.date_of_birth for p in people.values()})
    if people and (young_person_ids is not None or site_id is not None):
        candidates = YoungPerson.objects.unscoped().filter(
            Q(nhs_number__in=nhs) | Q(date_of_birth__in=births)
        )
        for row in candidates.exclude(pk__in=sorted(people)).values_list(*person_fields):
            people[row[0]] = Person(*row)
    participations = [
        Participation(
            id=pk,
            young_person_id=person_id,
            trial_id=trial_id,
            trial_code=code,
            site_id=p_site,
            enrolled_on=enrolled_on,
            randomised_on=timezone.localdate(at) if at is not None else None,
        )
        for pk, person_id, trial_id, code, p_site, enrolled_on, at in narrowed(
            Participant.objects.unscoped().filter(trial__is_test_mode=False)
        )
        .order_by("pk")
        .values_list(
            "id",
            "young_person_id",
            "trial_id",
            "trial__code",
            "site_id",
            "enrolled_on",
            "allocation__allocated_at",
        )
    ]
    assessments = [
        AssessmentFact(*row)
        for row in narrowed(Assessment.objects.unscoped())
        .filter(Q(out_of_window=True) | Q(schedule=TRIAL_SCHEDULE))
        .order_by("pk")
        .values_list(
            "id",
            "young_person_id",
            "instrument",
            "respondent",
            "schedule",
            "timepoint",
            "status",
            "completed_on",
            "out_of_window",
        )
    ]
    kinds = dict(ConsentRecord._meta.get_field("kind").flatchoices)  # type: ignore[union-attr]
    consents = [
        ConsentFact(pk, participant_id, str(kinds.get(kind, kind)), recorded_on)
        for pk, participant_id, kind, recorded_on in narrowed(
            # Scoped like the other people tables once the consent work lands; open either way.
            _all(ConsentRecord).filter(participant__trial__is_test_mode=False),
            "participant__young_person",
        )
        .order_by("pk")
        .values_list("id", "participant_id", "kind", "recorded_on")
    ]
    records: list[DatedRecord] = []
    for model_name, date_field, kind in OUTCOME_DATES:
        model = getattr(outcome_models, model_name)
        if not births:
            break
        # Only a row dated before the latest birth in scope can be impossible: a cheap filter.
        rows = narrowed(model.objects.unscoped()).filter(**{f"{date_field}__lt": max(births)})
        for pk, person_id, on in rows.order_by("pk").values_list(
            "id", "young_person_id", date_field
        ):
            records.append(DatedRecord(kind, model._meta.label_lower, pk, person_id, on))
    breaches = _breaches(site_id=site_id, young_person_ids=young_person_ids)
    return Facts(
        breaches=breaches,
        people=people,
        in_scope=scope if (young_person_ids is not None or site_id is not None) else None,
        participations=participations,
        assessments=assessments,
        records=records,
        consents=consents,
        neutral_schedules=frozenset(blinding.arm_neutral_schedules()),
        treatment_instruments=frozenset(blinding.TREATMENT_INSTRUMENTS),
    )


def _breaches(*, site_id: int | None, young_person_ids: Collection[int] | None) -> list[BreachFact]:
    """Read the protocol-order breaches of every live trial in scope (queries per trial fixed)."""
    from mstoutcomes.trial.models import Participant, Trial
    from mstoutcomes.trial.order import order_breaches

    trials = Trial.objects.filter(is_test_mode=False)
    wanted: set[int] = set(young_person_ids or ())
    if young_person_ids is not None:
        trial_ids = (
            Participant.objects.unscoped()
            .filter(young_person_id__in=sorted(wanted))
            .values_list("trial_id", flat=True)
        )
        trials = trials.filter(pk__in=list(trial_ids))
    if site_id is not None:
        trials = trials.filter(sites=site_id)
    found: list[BreachFact] = []
    for trial in trials.order_by("pk"):
        for b in order_breaches(
            trial=trial,
            site_ids=None if site_id is None else [site_id],
            young_person_ids=None if young_person_ids is None else wanted,
        ):
            found.append(
                BreachFact(
                    b.participant_id,
                    b.young_person_id,
                    trial.pk,
                    trial.code,
                    b.kind,
                    b.kind_label,
                    b.on,
                    b.detail,
                )
            )
    return found
