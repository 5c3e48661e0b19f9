from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "mstoutcomes.core"
    verbose_name = "Core"
