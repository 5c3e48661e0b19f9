from django.urls import path

from mstoutcomes.costs import views

app_name = "costs"
urlpatterns = [
    path("", views.index, name="index"),
    path("<str:site_code>/", views.report, name="report"),
    path("<str:site_code>/download.xlsx", views.download_excel, name="download_excel"),
    path("<str:site_code>/download/<slug:table>.csv", views.download_csv, name="download_csv"),
    path("<str:site_code>/unit-costs/<int:pk>/", views.unit_cost_edit, name="unit_cost_edit"),
    path("<str:site_code>/settings/", views.settings_edit, name="settings_edit"),
    path("<str:site_code>/team/post/", views.staff_add, name="staff_add"),
    path("<str:site_code>/team/running-cost/", views.running_cost_add, name="running_cost_add"),
]
