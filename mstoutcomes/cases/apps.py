from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "mstoutcomes.cases"
    verbose_name = "Young people and episodes"

    def ready(self) -> None:
        # core's scoped managers ask this app which young people a user may see.
        from mstoutcomes.cases.scoping import register

        register()
