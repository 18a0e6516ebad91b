"""The project package as an app, so that project-wide hooks have a place to connect."""

from django.apps import AppConfig, apps
from django.core import checks
from django.db.models.signals import post_migrate


class PresenceConfig(AppConfig):
    """Connects the periodic-task sync to ``migrate`` and checks the metrics settings;
    owns no models.

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
        checks.register(check_metrics_networks)


def check_metrics_networks(
    app_configs: object = None, **kwargs: object
) -> list[checks.CheckMessage]:
    """A typo in ``METRICS_ALLOWED_NETWORKS`` stops the start, rather than every scrape."""
    from django.conf import settings

    from config.metrics_http import check_networks

    try:
        check_networks(settings.METRICS_ALLOWED_NETWORKS)
    except ValueError as exc:
        return [checks.Error(str(exc), id="presence.E001")]
    return []
