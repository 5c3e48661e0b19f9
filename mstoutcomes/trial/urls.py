from django.urls import path

from mstoutcomes.trial import blinding_views, views

app_name = "trial"
urlpatterns = [
    path("", views.trial_list, name="list"),
    path("<str:code>/", views.trial_detail, name="detail"),
    path("<str:code>/participants/<int:pk>/", views.participant_detail, name="participant"),
    path(
        "<str:code>/participants/<int:pk>/randomise/",
        views.participant_randomise,
        name="randomise",
    ),
    path("<str:code>/participants/<int:pk>/reveal/", views.allocation_reveal, name="reveal"),
    path(
        "<str:code>/participants/<int:pk>/emergency-unblinding/",
        blinding_views.emergency_unblind,
        name="emergency_unblind",
    ),
    path("<str:code>/guesses/", blinding_views.guess_list, name="guesses"),
    path("<str:code>/participants/<int:pk>/guess/", blinding_views.guess_record, name="guess"),
    path("<str:code>/blinding/", blinding_views.blinding_report, name="blinding"),
    path("<str:code>/recruitment/", views.recruitment, name="recruitment"),
    path("<str:code>/consort/", views.consort, name="consort"),
    path("<str:code>/consort/pdf/", views.consort_pdf, name="consort_pdf"),
    path("<str:code>/consort/participants/", views.box_participants, name="participants"),
    path("<str:code>/deviations/", views.deviation_list, name="deviations"),
    path("<str:code>/deviations/new/", views.deviation_edit, name="deviation_add"),
    path("<str:code>/deviations/<int:pk>/", views.deviation_edit, name="deviation_edit"),
    path("<str:code>/lock/", views.trial_lock_page, name="lock"),
    path("<str:code>/consent-forms/", views.consent_form_list, name="consent_forms"),
    path(
        "<str:code>/consent-forms/<int:pk>/file/",
        views.consent_form_download,
        name="consent_form_file",
    ),
    path("<str:code>/re-consent/", views.reconsent_list, name="reconsent"),
]
