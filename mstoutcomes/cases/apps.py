from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "mstoutcomes.cases"
    verbose_name = "Young people and episodes"
