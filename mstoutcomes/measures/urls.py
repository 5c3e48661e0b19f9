from django.urls import path

from mstoutcomes.measures import views

app_name = "measures"
urlpatterns = [
    path("", views.worklist, name="worklist"),
    path("completeness/", views.completeness, name="completeness"),
    path("instruments/", views.instrument_list, name="instruments"),
    path("respond/<str:token>/", views.respond, name="respond"),
    path("<str:study_id>/", views.person_measures, name="person"),
    path(
        "<str:study_id>/enter/<str:instrument>/<str:respondent>/",
        views.assessment_enter,
        name="enter",
    ),
    path(
        "<str:study_id>/not-done/<str:schedule>/<str:timepoint>/<str:instrument>/<str:respondent>/",
        views.assessment_not_done,
        name="not_done",
    ),
    path("<str:study_id>/assessment/<int:pk>/", views.assessment_detail, name="assessment"),
    path(
        "<str:study_id>/link/<str:instrument>/<str:respondent>/",
        views.response_link_create,
        name="link",
    ),
]
