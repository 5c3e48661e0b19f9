from django.apps import AppConfig


class OutcomesConfig(AppConfig):
    name = "mstoutcomes.outcomes"

    def ready(self) -> None:
        # Put administrative records on the young person's timeline (cases.timeline).
        from mstoutcomes.outcomes import timeline  # noqa: F401
