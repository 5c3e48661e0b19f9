from django.apps import AppConfig


class QualityConfig(AppConfig):
    name = "mstoutcomes.quality"
    verbose_name = "Data-quality queries"
