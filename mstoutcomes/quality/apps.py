from django.apps import AppConfig


class QualityConfig(AppConfig):
    name = "mstoutcomes.quality"
    verbose_name = "Data-quality queries"

    def ready(self) -> None:
        from mstoutcomes.cases.events import subscribe_person_data_changed
        from mstoutcomes.quality.selectors import open_queries_block_lock
        from mstoutcomes.quality.services import quality_check_person
        from mstoutcomes.quality.views import trial_panel
        from mstoutcomes.trial.lockchecks import subscribe_lock_blocker
        from mstoutcomes.trial.panels import subscribe_dashboard_panel

        # Re-check a young person's data whenever a service on a lower floor saves some of it.
        subscribe_person_data_changed(name="quality", listener=quality_check_person)
        # The trial's database waits for its open queries, and its dashboard shows them.
        subscribe_lock_blocker(open_queries_block_lock)
        subscribe_dashboard_panel(name="quality", render=trial_panel)
