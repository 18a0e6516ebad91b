"""The project package as an app, so that project-wide hooks have a place to connect."""

from django.apps import AppConfig, apps
from django.db.models.signals import post_migrate


class PresenceConfig(AppConfig):
    """Connects the periodic-task sync to ``migrate``; owns no models.

    ``post_migrate`` is only sent for apps with models, so the sync listens for
    django-celery-beat's, which also guarantees its tables exist.
    """

    name = "config"
    label = "presence"
    verbose_name = "Presence"

    def ready(self) -> None:
        """Keep the beat schedule in step with the code after every migrate."""
        from config.periodic import sync_periodic_tasks

        post_migrate.connect(
            sync_periodic_tasks,
            sender=apps.get_app_config("django_celery_beat"),
            dispatch_uid="presence.sync_periodic_tasks",
        )
