from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class CoreConfig(AppConfig):
    name = "mstoutcomes.core"
    verbose_name = "Core"


class MSTAdminConfig(admin_apps.AdminConfig):
    default = False
    default_site = "mstoutcomes.core.admin_site.MSTAdminSite"
