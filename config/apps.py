"""The project package as an app, so that project-wide hooks have a place to connect."""

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class PresenceConfig(AppConfig):
    """Connects the periodic-task sync to ``migrate``; owns no models."""

    name = "config"
    label = "presence"
    verbose_name = "Presence"

    def ready(self) -> None:
        from config.periodic import sync_periodic_tasks

        post_migrate.connect(
            sync_periodic_tasks, sender=self, dispatch_uid="presence.sync_periodic_tasks"
        )
