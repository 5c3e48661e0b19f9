from django.contrib import admin
from django.urls import include, path

from mstoutcomes.accounts import views as account_views

urlpatterns = [
    path("", account_views.home, name="home"),
    path("", include("mstoutcomes.accounts.urls")),
    path("young-people/", include("mstoutcomes.cases.urls")),
    path("admin/", admin.site.urls),
]
