from django.apps import AppConfig


class CostsConfig(AppConfig):
    name = "mstoutcomes.costs"
    verbose_name = "Costs"
