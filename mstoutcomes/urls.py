from django.contrib import admin
from django.urls import include, path

from mstoutcomes.cases.home import home

urlpatterns = [
    path("", home, name="home"),
    path("", include("mstoutcomes.accounts.urls")),
    path("young-people/", include("mstoutcomes.cases.urls")),
    path("referrals/", include("mstoutcomes.referrals.urls")),
    path("measures/", include("mstoutcomes.measures.urls")),
    path("outcomes/", include("mstoutcomes.outcomes.urls")),
    path("analysis/", include("mstoutcomes.analysis.urls")),
    path("trial/", include("mstoutcomes.trial.urls")),
    path("quality/", include("mstoutcomes.quality.urls")),
    path("costs/", include("mstoutcomes.costs.urls")),
    path("admin/", admin.site.urls),
]
