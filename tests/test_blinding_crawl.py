"""Blinded users cannot tell the arms apart on any page: a crawl of everything they can reach.

Ten pairs of trial participants at the same stage: randomised the same day, the same baseline and
6-month assessments entered by the research worker. The MST one of each pair has an episode with
a therapist, a family goal, a contact and a GBO rating; the MAU one has none. As each blinded
role (the research worker, the blind statistician, the steering group) we open every page
reachable from the home page by following links (same-site GET links, breadth first, bounded),
plus the URLs we know for each participant: their own pages, the treatment pages with the MST
partner's database ids, and the same paths for the MAU partner.

For each pair, after replacing study IDs, names, dates and database ids with placeholders, the set
of URLs, the status codes and the page text must be the same for the MST and the MAU participant.
Shared pages (home, lists, worklists) must show the two partners' rows identically.

The data and the crawl are built once for the module inside a transaction that is rolled back.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import deque
from dataclasses import dataclass, field
from html import unescape
from urllib.parse import urljoin, urlsplit

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from mstoutcomes.accounts.models import Role
from mstoutcomes.accounts.tests.factories import SiteFactory, member
from mstoutcomes.cases.models import Contact, OverarchingGoal
from mstoutcomes.cases.tests.factories import (
    EpisodeFactory,
    FamilyMemberFactory,
    YoungPersonFactory,
)
from mstoutcomes.measures.tests.factories import AssessmentFactory
from mstoutcomes.trial.models import Allocation, ConsentRecord, Participant
from mstoutcomes.trial.tests.conftest import make_trial

pytestmark = pytest.mark.django_db

PAIRS = 10
MAX_PAGES = 4000
SKIP_PREFIXES = ("/static/", "/admin/", "/sign-out/", "/media/")
RANDOMISED_DAYS_AGO = 190  # the 6-month window is open


@dataclass
class Person:
    study_id: str
    names: list[str]
    arm: str
    participant_pk: int
    ids: dict[str, int] = field(default_factory=dict)


@dataclass
class Page:
    status: int
    text: str
    location: str = ""


@dataclass
class Crawl:
    pairs: list[tuple[Person, Person]]
    pages: dict[str, Page]
    trial_code: str
    role: str


def _build_world(role: str):
    site = SiteFactory(code="BLD", name="Blind Site")
    therapist = member(
        Role.THERAPIST, site, username="theo", first_name="Theodora", last_name="Therapist"
    )
    assessor = member(
        Role.RESEARCH_WORKER, site, username="rita", first_name="Rita", last_name="Research"
    )
    viewer = (
        assessor
        if role == Role.RESEARCH_WORKER
        else member(role, site, username="vic", first_name="Victor", last_name="Viewer")
    )
    manager = member(Role.TRIAL_MANAGER, site, username="tim", first_name="Tim", last_name="Man")
    trial = make_trial(
        site,
        code="BLIND-T",
        arms=[
            {"code": "MAU", "name": "Management as usual"},
            {"code": "MST", "name": "Multisystemic Therapy"},
        ],
        factors=[{"name": "site", "categories": ["BLD"]}],
    )
    today = dt.date.today()
    randomised_on = today - dt.timedelta(days=RANDOMISED_DAYS_AGO)
    pairs = []
    sequence = 0
    for n in range(PAIRS):
        dob = today - dt.timedelta(days=(13 + n % 4) * 365 + n)
        couple = []
        for arm in ("MST", "MAU"):
            sequence += 1
            # Made-up names that cannot collide with words on the pages.
            tag = "".join(chr(ord("a") + int(d)) for d in f"{sequence:02d}")
            person = YoungPersonFactory(
                site=site,
                study_id=f"BLD-{sequence:04d}",
                given_name=f"Kidq{tag}",
                family_name=f"Famq{tag}",
                date_of_birth=dob,
                referred_on=randomised_on - dt.timedelta(days=30),
            )
            carer = FamilyMemberFactory(
                young_person=person, given_name=f"Carq{tag}", family_name=f"Carfamq{tag}"
            )
            participant = Participant.objects.create(
                trial=trial,
                young_person=person,
                site=site,
                levels={"site": "BLD"},
                is_eligible=True,
                enrolled_on=randomised_on - dt.timedelta(days=20),
                eligibility_confirmed_on=randomised_on - dt.timedelta(days=10),
                eligibility_confirmed_by=manager,
            )
            for kind in ("carer_consent", "young_person_assent"):
                ConsentRecord.objects.create(
                    participant=participant,
                    kind=kind,
                    form_version="v1.0",
                    given=True,
                    recorded_on=randomised_on - dt.timedelta(days=5),
                    taken_by=assessor,
                )
            Allocation.objects.create(
                trial=trial,
                participant=participant,
                arm=arm,
                method="minimisation",
                stratum="*",
                sequence=sequence,
                allocated_at=timezone.make_aware(
                    dt.datetime.combine(randomised_on, dt.time(10, 0))
                ),
                allocated_by=manager,
            )
            record = Person(
                person.study_id,
                [person.given_name, person.family_name, carer.given_name, carer.family_name],
                arm,
                participant.pk,
            )
            for timepoint, days in (("t0", 0), ("t6", 183)):
                assessment = AssessmentFactory(
                    young_person=person,
                    schedule="trial",
                    timepoint=timepoint,
                    completed_on=randomised_on + dt.timedelta(days=days),
                    entered_by=assessor,
                )
                record.ids[f"assessment_{timepoint}"] = assessment.pk
            if arm == "MST":
                episode = EpisodeFactory(
                    young_person=person,
                    therapist=therapist,
                    start_date=randomised_on + dt.timedelta(days=7),
                )
                goal = OverarchingGoal.objects.create(
                    young_person=person,
                    episode=episode,
                    number=1,
                    description="Back to school every day",
                    agreed_on=episode.start_date,
                )
                contact = Contact.objects.create(
                    young_person=person,
                    episode=episode,
                    staff=therapist,
                    date=episode.start_date + dt.timedelta(days=3),
                    duration_minutes=60,
                    kind="face_to_face",
                    place="home",
                    present="young person, mother",
                )
                gbo = AssessmentFactory(
                    young_person=person,
                    episode=episode,
                    instrument="gbo",
                    instrument_version="CORC 2015",
                    scoring_version="gbo-1",
                    schedule="mst",
                    timepoint="month_1",
                    completed_on=episode.start_date + dt.timedelta(days=30),
                    entered_by=therapist,
                )
                record.ids.update(episode=episode.pk, goal=goal.pk, contact=contact.pk, gbo=gbo.pk)
            couple.append(record)
        mst, mau = couple
        mau.ids.update({k: v for k, v in mst.ids.items() if not k.startswith("assessment_")})
        pairs.append((mst, mau))
    return viewer, trial, pairs


def known_urls(person: Person, trial_code: str) -> list[str]:
    """The URLs we can build for a participant, treatment ones with the MST partner's ids."""
    sid, ids, pk = person.study_id, person.ids, person.participant_pk
    urls = [
        reverse(f"cases:{name}", args=[sid])
        for name in (
            "detail",
            "edit",
            "family_add",
            "involvement_add",
            "episode_add",
            "goals",
            "outcome_add",
            "goal_add",
            "weekly_add",
            "contacts",
            "contact_add",
            "meeting_add",
        )
    ]
    urls += [
        reverse("cases:episode_edit", args=[sid, ids["episode"]]),
        reverse("cases:episode_discharge", args=[sid, ids["episode"]]),
        reverse("cases:goal_edit", args=[sid, ids["goal"]]),
        reverse("cases:contact_edit", args=[sid, ids["contact"]]),
        reverse("measures:person", args=[sid]),
        reverse("measures:assessment", args=[sid, ids["assessment_t0"]]),
        reverse("measures:assessment", args=[sid, ids["assessment_t6"]]),
        reverse("measures:assessment", args=[sid, ids["gbo"]]),
        reverse("outcomes:person", args=[sid]),
    ]
    urls += [
        reverse(f"trial:{name}", args=[trial_code, pk])
        for name in ("participant", "guess", "emergency_unblind", "reveal", "randomise")
    ]
    for instrument, respondent in (
        ("gbo", "parent"),
        ("gbo", "young_person"),
        ("gbo", "therapist"),
        ("tam-r", "parent"),
        ("mst-discharge", "therapist"),
        ("sdq-p", "parent"),
        ("sdq-s", "young_person"),
        ("apq9", "parent"),
        ("srd", "young_person"),
        ("icu", "parent"),
    ):
        urls.append(reverse("measures:enter", args=[sid, instrument, respondent]))
        urls.append(reverse("measures:link", args=[sid, instrument, respondent]))
    return urls


HREF = re.compile(r"""(?:href|action|hx-get)\s*=\s*["']([^"'#]+)""")


def links(base: str, html: str) -> list[str]:
    found = []
    for raw in HREF.findall(html):
        url = urljoin(base, unescape(raw))
        parts = urlsplit(url)
        if parts.netloc and parts.netloc != "testserver":
            continue
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        if path.startswith(SKIP_PREFIXES) or not path.startswith("/"):
            continue
        found.append(path)
    return found


def fetch(client: Client, url: str) -> Page:
    response = client.get(url)
    text = ""
    if (
        response.get("Content-Type", "").startswith("text/html")
        or response.status_code >= 400
        or response.status_code == 200
    ):
        text = response.content.decode(errors="replace")
    return Page(response.status_code, text, response.get("Location", ""))


def crawl(client: Client, seeds: list[str]) -> dict[str, Page]:
    pages: dict[str, Page] = {}
    queue = deque(["/", *seeds])
    queued = set(queue)
    while queue and len(pages) < MAX_PAGES:
        url = queue.popleft()
        page = pages[url] = fetch(client, url)
        targets = links(url, page.text) if page.status == 200 else []
        if page.location:
            targets.append(urlsplit(page.location).path)
        for target in targets:
            if target not in queued:
                queued.add(target)
                queue.append(target)
    assert len(pages) < MAX_PAGES, "The crawl hit its bound: raise MAX_PAGES or narrow it."
    return pages


# The blinded roles: the outcome assessor, the blind statistician and the steering group.
BLINDED = [Role.RESEARCH_WORKER, Role.STATISTICIAN, Role.STEERING_GROUP]


@pytest.fixture(scope="module", params=BLINDED)
def crawled(request, django_db_setup, django_db_blocker) -> Crawl:
    with django_db_blocker.unblock(), transaction.atomic():
        viewer, trial, pairs = _build_world(request.param)
        client = Client()
        client.force_login(viewer)
        seeds = [url for pair in pairs for p in pair for url in known_urls(p, trial.code)]
        pages = crawl(client, seeds)
        transaction.set_rollback(True)
    return Crawl(pairs, pages, trial.code, request.param)


# Normalising what may differ between two people at the same stage.

CSRF = re.compile(r'("X-CSRFToken": "|name="csrfmiddlewaretoken" value=")[^"]*')
MONTHS = (
    "January|February|March|April|May|June|July|August|September|October|November|December"
    "|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec"
)
DATES = [
    re.compile(rf"\b\d{{1,2}} (?:{MONTHS})\.? \d{{4}}\b"),
    re.compile(rf"\b\d{{1,2}} (?:{MONTHS})\b"),
    re.compile(rf"\b(?:{MONTHS}) \d{{4}}\b"),
    re.compile(r"\b\d{4}-\d{2}-\d{2}\b"),
    re.compile(r"\b\d{1,2}/\d{1,2}/\d{2,4}\b"),
]
IDS_IN_PATHS = re.compile(r"/\d+/")
OTHER_IDS = re.compile(r"\b(pk|id|participant|assessment)=\d+\b")


def normalise(text: str, person: Person, partner: Person) -> str:
    text = CSRF.sub("", text)
    for who, tag in ((person, "SELF"), (partner, "PARTNER")):
        text = text.replace(who.study_id, f"<{tag}-ID>")
        for name in sorted(who.names, key=len, reverse=True):
            text = re.sub(rf"\b{re.escape(name)}\b", f"<{tag}-NAME>", text)
    for pattern in DATES:
        text = pattern.sub("<DATE>", text)
    text = IDS_IN_PATHS.sub("/<N>/", text)
    text = OTHER_IDS.sub(r"\1=<N>", text)
    return text


def person_pages(result: Crawl, person: Person, partner: Person) -> dict[str, tuple[int, str]]:
    """The person's own pages: URLs naming their study ID or their participant record."""
    own = {}
    marks = (f"/{person.study_id}/", f"/participants/{person.participant_pk}/")
    for url, page in result.pages.items():
        if any(mark in url for mark in marks):
            key = normalise(url, person, partner)
            own[key] = (page.status, normalise(page.text + page.location, person, partner))
    return own


def shared_pages(result: Crawl) -> dict[str, Page]:
    people = [p for pair in result.pairs for p in pair]
    return {
        url: page
        for url, page in result.pages.items()
        if not any(
            f"/{p.study_id}/" in url or f"/participants/{p.participant_pk}/" in url for p in people
        )
    }


CHUNK = re.compile(r"<(tr|li|option|div class=\"govuk-summary-card)\b.*?</\1>", re.S)


def rows_about(text: str, person: Person, partner: Person) -> list[str]:
    """The table rows, list items and options on a shared page that mention the person."""
    return sorted(
        normalise(chunk.group(0), person, partner)
        for chunk in CHUNK.finditer(text)
        if person.study_id in chunk.group(0)
    )


def describe(a: dict[str, tuple[int, str]], b: dict[str, tuple[int, str]]) -> list[str]:
    problems = []
    for url in sorted(set(a) | set(b)):
        if url not in a or url not in b:
            problems.append(f"{url}: reached only for {'MST' if url in a else 'MAU'}")
        elif a[url][0] != b[url][0]:
            problems.append(f"{url}: status {a[url][0]} (MST) != {b[url][0]} (MAU)")
        elif a[url][1] != b[url][1]:
            problems.append(f"{url}: text differs")
    return problems


# The tests


def test_the_crawl_reached_each_participants_pages_and_the_shared_pages(crawled):
    assert len(crawled.pairs) == PAIRS
    mst, mau = crawled.pairs[0]
    for person in (mst, mau):
        assert crawled.pages[reverse("cases:detail", args=[person.study_id])].status == 200
    assert crawled.pages["/"].status == 200
    if crawled.role == Role.RESEARCH_WORKER:
        for name in ("measures:person", "outcomes:person"):
            assert crawled.pages[reverse(name, args=[mau.study_id])].status == 200, name
        guess = reverse("trial:guess", args=[crawled.trial_code, mau.participant_pk])
        assert crawled.pages[guess].status == 200
        assert len(shared_pages(crawled)) >= 5
        assert sum(page.status == 200 for page in crawled.pages.values()) > 40 * 2 * PAIRS


@pytest.mark.parametrize("n", range(PAIRS))
def test_each_pair_gets_the_same_urls_statuses_and_text(crawled, n):
    mst, mau = crawled.pairs[n]
    problems = describe(person_pages(crawled, mst, mau), person_pages(crawled, mau, mst))
    assert problems == [], "\n".join(problems)


def test_shared_pages_show_both_partners_alike(crawled):
    problems = []
    for url, page in sorted(shared_pages(crawled).items()):
        for mst, mau in crawled.pairs:
            if page.text.count(mst.study_id) != page.text.count(mau.study_id):
                problems.append(f"{url}: {mst.study_id} and {mau.study_id} appear unequally")
            elif rows_about(page.text, mst, mau) != rows_about(page.text, mau, mst):
                problems.append(f"{url}: the rows of {mst.study_id} and {mau.study_id} differ")
    assert problems == [], "\n".join(problems)


def test_no_page_names_the_therapist_or_a_participants_treatment(crawled):
    # Aggregate service charts may say "In treatment"; a participant's pages may not.
    own = {url for url in crawled.pages if url not in shared_pages(crawled)}
    revealing = {"Theodora": crawled.pages, "Back to school": crawled.pages}
    revealing |= {"In treatment": own, "Management as usual": own}
    leaks = [
        f"{url}: {word}"
        for word, pages in revealing.items()
        for url in pages
        if crawled.pages[url].status == 200
        and "/guess" not in url  # the guess form lists the arms, the same for everyone
        and word in crawled.pages[url].text
    ]
    assert leaks == [], "\n".join(leaks)
