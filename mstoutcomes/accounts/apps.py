from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class AccountsConfig(AppConfig):
    name = "mstoutcomes.accounts"
    verbose_name = "Sites, agencies and people"


class MSTAdminConfig(admin_apps.AdminConfig):
    """Django's admin with our site: administrators only, every change audited."""

    default = False
    default_site = "mstoutcomes.accounts.admin_site.MSTAdminSite"
