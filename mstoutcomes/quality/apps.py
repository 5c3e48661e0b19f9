from django.apps import AppConfig


class QualityConfig(AppConfig):
    name = "mstoutcomes.quality"
    verbose_name = "Data-quality queries"

    def ready(self) -> None:
        # Re-check a young person's data whenever a service on a lower floor saves some of it.
        from mstoutcomes.cases.events import subscribe_person_data_changed
        from mstoutcomes.quality.services import quality_check_person

        subscribe_person_data_changed(name="quality", listener=quality_check_person)
