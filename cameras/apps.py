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
        checks.register(check_decoder)


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


def check_decoder(app_configs: object = None, **kwargs: object) -> list[checks.CheckMessage]:
    """The default decoder runs the ``ffmpeg`` binary: without it every camera would sit in
    ``error``, so say so at start (a warning: the API and admin work without cameras)."""
    from django.conf import settings

    from cameras.streams.ffmpeg import ffmpeg_executable

    if settings.CAMERA_DECODER == "ffmpeg" and ffmpeg_executable() is None:
        return [
            checks.Warning(
                "CAMERA_DECODER is ffmpeg but no ffmpeg binary is on PATH: cameras cannot be read.",
                hint="apt-get install ffmpeg (make system-packages-run), or set "
                "CAMERA_DECODER=opencv.",
                id="cameras.W001",
            )
        ]
    return []
