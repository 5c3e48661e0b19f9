"""Trial pages given garbage query parameters answer with a sensible default or a clear error."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

GARBAGE = ["²", "99999999999999999999999", "-1", "0", "abc", "2024-02-30", "2024-13-45", " "]
# The parameters each page reads.
PARAMS = {
    "consort": ["cut_off", "site", "format"],
    "consort_pdf": ["cut_off", "site"],
    "participants": ["cut_off", "site", "box"],
    "deviations": ["page", "category", "severity", "site", "format"],
    "recruitment": ["cut_off", "site", "page"],
}


@pytest.mark.parametrize("name", list(PARAMS))
def test_trial_pages_never_fail_on_garbage_parameters(client, trial, trial_manager, name):
    client.raise_request_exception = False
    client.force_login(trial_manager)
    url = reverse(f"trial:{name}", args=[trial.code])
    for value in GARBAGE:
        for param in PARAMS[name]:
            query = {"box": "assessed", param: value}
            status = client.get(url, query).status_code
            assert status in (200, 404), (param, value, status)


@pytest.mark.parametrize("cut_off", ["2024-02-30", "2024-13-45", "yesterday"])
def test_an_impossible_cut_off_date_says_so_and_shows_today(client, trial, trial_manager, cut_off):
    client.force_login(trial_manager)
    html = client.get(reverse("trial:consort", args=[trial.code]), {"cut_off": cut_off})
    assert html.status_code == 200
    assert "is not a real date: showing today" in html.content.decode()


def test_a_site_number_too_large_for_the_database_shows_all_sites(client, trial, trial_manager):
    client.force_login(trial_manager)
    url = reverse("trial:participants", args=[trial.code])
    response = client.get(url, {"box": "assessed", "site": "9" * 30})
    assert response.status_code == 200


def test_a_garbage_deviation_filter_is_named_and_the_whole_log_shown(client, trial, trial_manager):
    client.force_login(trial_manager)
    response = client.get(
        reverse("trial:deviations", args=[trial.code]), {"category": "zzz", "site": "²"}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert html.count('class="govuk-error-message"') == 2 and "All are shown." in html


def test_a_download_with_an_impossible_cut_off_uses_today_without_a_stray_message(
    client, trial, trial_manager
):
    client.force_login(trial_manager)
    url = reverse("trial:consort", args=[trial.code])
    csv = client.get(url, {"cut_off": "2024-02-30", "format": "csv"})
    assert csv.status_code == 200 and csv["Content-Type"] == "text/csv"
    assert "is not a real date" not in client.get(url).content.decode()
