from django.urls import path

from mstoutcomes.referrals import views

app_name = "referrals"
urlpatterns = [
    path("", views.referral_list, name="list"),
    path("new/", views.referral_start, name="start"),
    path("<int:pk>/", views.referral_detail, name="detail"),
    path("<int:pk>/edit/<slug:page>/", views.referral_page, name="page"),
    path("<int:pk>/check/", views.referral_check, name="check"),
    path("<int:pk>/step/<slug:step>/", views.referral_step, name="step"),
    path("<int:pk>/decide/", views.referral_decide, name="decide"),
    path("<int:pk>/allocate/", views.referral_allocate, name="allocate"),
    path("<int:pk>/consent-override/", views.referral_consent_override, name="consent_override"),
    path("<int:pk>/withdraw/", views.referral_withdraw, name="withdraw"),
    path("panels/", views.panel_list, name="panels"),
    path("capacity/", views.capacity, name="capacity"),
    path("case-mix/", views.case_mix, name="case_mix"),
    path("dashboard/", views.dashboard_view, name="dashboard"),
]
