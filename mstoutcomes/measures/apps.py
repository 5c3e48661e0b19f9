from django.apps import AppConfig


class MeasuresConfig(AppConfig):
    name = "mstoutcomes.measures"

    def ready(self) -> None:
        # When an episode's dates move, record how the due dates moved (cases publishes the event).
        from mstoutcomes.cases.events import subscribe_episode_anchors_changed
        from mstoutcomes.measures import services

        subscribe_episode_anchors_changed(
            name="measures.schedule",
            before=lambda person: services.tasks_for(person, services.latest_episode(person)),
            after=services.schedule_recompute,
        )
