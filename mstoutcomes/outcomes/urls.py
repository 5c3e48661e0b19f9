from django.urls import path

from mstoutcomes.outcomes import views

app_name = "outcomes"
urlpatterns = [
    path("import/", views.import_file, name="import"),
    path("import/template/<str:kind>.<str:extension>", views.import_template, name="template"),
    path("<str:study_id>/", views.person_records, name="person"),
    path("<str:study_id>/<str:kind>/new/", views.record_edit, name="record_add"),
    path("<str:study_id>/<str:kind>/<int:pk>/", views.record_edit, name="record_edit"),
]
