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
]
