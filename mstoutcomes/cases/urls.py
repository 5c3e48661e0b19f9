from django.urls import path

from mstoutcomes.cases import views

app_name = "cases"
urlpatterns = [
    path("", views.young_person_list, name="list"),
    path("new/", views.young_person_create, name="create"),
    path("<str:study_id>/", views.young_person_detail, name="detail"),
    path("<str:study_id>/edit/", views.young_person_edit, name="edit"),
    path("<str:study_id>/family/new/", views.family_member_edit, name="family_add"),
    path("<str:study_id>/family/<int:pk>/", views.family_member_edit, name="family_edit"),
    path("<str:study_id>/agencies/new/", views.involvement_edit, name="involvement_add"),
    path("<str:study_id>/agencies/<int:pk>/", views.involvement_edit, name="involvement_edit"),
    path("<str:study_id>/episodes/new/", views.episode_edit, name="episode_add"),
    path("<str:study_id>/episodes/<int:pk>/", views.episode_edit, name="episode_edit"),
    path(
        "<str:study_id>/episodes/<int:pk>/discharge/",
        views.episode_discharge,
        name="episode_discharge",
    ),
    path("<str:study_id>/goals/", views.goals, name="goals"),
    path("<str:study_id>/goals/outcomes/new/", views.desired_outcome_edit, name="outcome_add"),
    path(
        "<str:study_id>/goals/outcomes/<int:pk>/", views.desired_outcome_edit, name="outcome_edit"
    ),
    path("<str:study_id>/goals/new/", views.overarching_goal_edit, name="goal_add"),
    path("<str:study_id>/goals/<int:pk>/", views.overarching_goal_edit, name="goal_edit"),
    path("<str:study_id>/goals/weekly/new/", views.intermediate_goal_edit, name="weekly_add"),
    path("<str:study_id>/goals/weekly/<int:pk>/", views.intermediate_goal_edit, name="weekly_edit"),
    path("<str:study_id>/contacts/", views.contacts, name="contacts"),
    path("<str:study_id>/contacts/new/", views.contact_edit, name="contact_add"),
    path("<str:study_id>/contacts/<int:pk>/", views.contact_edit, name="contact_edit"),
    path("<str:study_id>/meetings/new/", views.meeting_edit, name="meeting_add"),
    path("<str:study_id>/meetings/<int:pk>/", views.meeting_edit, name="meeting_edit"),
]
