from django.apps import AppConfig


class TrialConfig(AppConfig):
    name = "mstoutcomes.trial"
    verbose_name = "Trial"
