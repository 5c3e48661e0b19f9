"""Who may open the new trial pages and downloads: role by page, and another site's staff."""

import pytest
from django.urls import reverse

from mstoutcomes.accounts.models import AuditEvent, Role
from mstoutcomes.accounts.tests.factories import AgencyFactory, member

pytestmark = pytest.mark.django_db

R = Role
PAGES = ["deviations", "deviations_csv", "deviation_add", "consort", "consort_csv", "consort_pdf"]
# fmt: off
#                        log  csv  add  consort csv  pdf
MATRIX = {
    R.THERAPIST:         (403, 403, 403, 403,    403, 403),
    R.SUPERVISOR:        (403, 403, 403, 403,    403, 403),
    R.PROGRAMME_MANAGER: (200, 200, 200, 403,    403, 403),
    R.REFERRER:          (403, 403, 403, 403,    403, 403),
    R.RESEARCH_WORKER:   (403, 403, 403, 403,    403, 403),
    R.TRIAL_MANAGER:     (200, 200, 200, 200,    200, 200),
    R.STATISTICIAN:      (403, 403, 403, 403,    403, 403),
    R.UNBLINDED_STATISTICIAN: (200, 200, 403, 403, 403, 403),
    R.DMC_MEMBER:        (403, 403, 403, 403,    403, 403),
    R.STEERING_GROUP:    (403, 403, 403, 403,    403, 403),
    R.ADMINISTRATOR:     (403, 403, 403, 403,    403, 403),
}
# fmt: on


def _urls(trial):
    log = reverse("trial:deviations", args=[trial.code])
    consort = reverse("trial:consort", args=[trial.code])
    return [
        log,
        f"{log}?format=csv",
        reverse("trial:deviation_add", args=[trial.code]),
        consort,
        f"{consort}?format=csv",
        reverse("trial:consort_pdf", args=[trial.code]),
    ]


def test_the_matrix_covers_every_role():
    assert set(MATRIX) == set(Role)


@pytest.mark.parametrize("role", list(MATRIX))
def test_each_role_opens_only_the_trial_pages_it_may(client, trial, site_a, role):
    agency = AgencyFactory() if role == R.REFERRER else None
    client.force_login(member(role, site_a, agency, username=f"user-{role}"))
    codes = tuple(client.get(url).status_code for url in _urls(trial))
    assert codes == MATRIX[role]


@pytest.mark.parametrize("role", [R.TRIAL_MANAGER, R.UNBLINDED_STATISTICIAN])
def test_another_sites_staff_cannot_open_the_trials_pages(client, trial, site_b, role):
    client.force_login(member(role, site_b, username=f"away-{role}"))
    codes = [client.get(url).status_code for url in _urls(trial)]
    assert set(codes) <= {403, 404} and codes[0] == 404


def test_every_new_download_is_audited(client, trial, trial_manager):
    client.force_login(trial_manager)
    before = AuditEvent.objects.count()
    for url in _urls(trial):
        if "csv" in url or "pdf" in url:
            assert client.get(url).status_code == 200
    events = AuditEvent.objects.order_by("pk")[before:]
    assert sorted(e.action for e in events) == sorted(
        ["trial.consort.exported", "trial.consort.exported", "trial.deviations.exported"]
    )
    assert {e.ip_address for e in events} == {"127.0.0.1"}  # recorded with the request
