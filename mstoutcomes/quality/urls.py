from django.urls import path

from mstoutcomes.quality import views

app_name = "quality"
urlpatterns = [
    path("", views.query_list, name="list"),
    path("new/", views.query_new, name="new"),
    path("<int:pk>/", views.query_detail, name="detail"),
]
