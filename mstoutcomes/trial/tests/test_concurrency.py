"""100 simultaneous randomisation requests on PostgreSQL, each thread with its own connection.

SQLite serialises writers, so these run on PostgreSQL only (make test runs both databases).
"""

import threading
from collections import Counter

import pytest
from django.db import connection, connections

from mstoutcomes.cases.tests.factories import YoungPersonFactory
from mstoutcomes.trial.errors import AlreadyRandomised
from mstoutcomes.trial.models import Allocation, Participant
from mstoutcomes.trial.services import participant_enrol, participant_randomise
from mstoutcomes.trial.tests.conftest import make_trial, ready

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL"),
]

THREADS = 25
REQUESTS = 100


def _hammer(trial, trial_manager, participants):
    """Send each participant twice, in shuffled order, from THREADS threads at once."""
    requests = [p.pk for p in participants] * 2
    requests = requests[::2] + requests[1::2]
    assert len(requests) == REQUESTS
    outcomes: Counter = Counter()
    unexpected: list[Exception] = []
    barrier = threading.Barrier(THREADS)
    lock = threading.Lock()

    def work(chunk):
        try:
            barrier.wait()
            for pk in chunk:
                participant = Participant.objects.unscoped().get(pk=pk)
                try:
                    participant_randomise(by=trial_manager, participant=participant)
                    result = "allocated"
                except AlreadyRandomised:
                    result = "already"
                with lock:
                    outcomes[result] += 1
        except Exception as exc:
            unexpected.append(exc)
        finally:
            connections.close_all()

    chunks = [requests[i::THREADS] for i in range(THREADS)]
    pool = [threading.Thread(target=work, args=(chunk,)) for chunk in chunks]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return outcomes, unexpected


def _ready_participants(trial, site, trial_manager, n):
    people = [YoungPersonFactory(site=site, sex=["female", "male"][i % 2]) for i in range(n)]
    return [
        ready(participant_enrol(by=None, trial=trial, young_person=p), trial_manager)
        for p in people
    ]


@pytest.mark.parametrize("method", ["minimisation", "blocks"])
def test_simultaneous_requests_allocate_each_participant_once_and_never_share_a_slot(
    site_a, trial_manager, method
):
    trial = make_trial(site_a, method=method, code=f"CONC-{method}")
    participants = _ready_participants(trial, site_a, trial_manager, REQUESTS // 2)
    outcomes, unexpected = _hammer(trial, trial_manager, participants)

    assert unexpected == []
    assert outcomes == {"allocated": REQUESTS // 2, "already": REQUESTS // 2}
    allocations = list(Allocation.objects.unscoped().filter(trial=trial))
    assert len({a.participant_id for a in allocations}) == len(allocations) == REQUESTS // 2
    by_stratum: dict[str, list[int]] = {}
    for allocation in allocations:
        by_stratum.setdefault(allocation.stratum, []).append(allocation.sequence)
    for sequences in by_stratum.values():
        # Every slot used once, none skipped.
        assert sorted(sequences) == list(range(1, len(sequences) + 1))
