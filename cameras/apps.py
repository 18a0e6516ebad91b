from django.apps import AppConfig


class CamerasConfig(AppConfig):
    """Cameras, their encrypted credentials, status and heartbeats, and the stream supervisor."""

    name = "cameras"
    verbose_name = "Cameras"

    def ready(self) -> None:
        from cameras.health import camera_workers
        from config.api.health import register_health_check

        register_health_check("camera_workers", camera_workers, critical=False)
