from django.urls import path

from mstoutcomes.analysis import views

app_name = "analysis"
urlpatterns = [
    path("", views.run_list, name="list"),
    path("runs/start/", views.run_start, name="start"),
    path("runs/<int:pk>/", views.run_detail, name="detail"),
    path("runs/<int:pk>/progress/", views.run_progress, name="progress"),
    path("runs/<int:pk>/publish/", views.run_publish, name="publish"),
    path("runs/<int:pk>/repeat/", views.run_repeat, name="repeat"),
    path("runs/<int:pk>/download/<slug:fmt>/", views.run_download, name="download"),
]
