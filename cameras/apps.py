"""The cameras app: registers its health check, its metrics collector and its settings
check."""

from django.apps import AppConfig
from django.core import checks


class CamerasConfig(AppConfig):
    """Cameras, their encrypted credentials, status and heartbeats, and the stream supervisor."""

    name = "cameras"
    verbose_name = "Cameras"

    def ready(self) -> None:
        """Register with the kernel here, since ``config.api`` imports no app."""
        from cameras.health import camera_workers
        from cameras.metrics import collect_cameras
        from config.api.health import register_health_check
        from config.metrics import register_collector

        register_health_check("camera_workers", camera_workers, critical=False)
        register_collector("cameras", collect_cameras)
        checks.register(check_allowed_networks)


def check_allowed_networks(
    app_configs: object = None, **kwargs: object
) -> list[checks.CheckMessage]:
    """A typo in ``CAMERA_ALLOWED_NETWORKS`` stops the start, rather than every camera save."""
    from django.conf import settings

    from cameras.addresses import parse_networks

    try:
        parse_networks(tuple(settings.CAMERA_ALLOWED_NETWORKS))
    except ValueError as exc:
        return [checks.Error(str(exc), id="cameras.E001")]
    return []
