from django.apps import AppConfig


class TrialConfig(AppConfig):
    name = "mstoutcomes.trial"
    verbose_name = "Trial"

    def ready(self) -> None:
        # The trial rules on treatment and locked data through the seam the floors below publish.
        from mstoutcomes.trial.protocol import subscribe_rules

        subscribe_rules()
