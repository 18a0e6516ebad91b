from django.apps import AppConfig


class CamerasConfig(AppConfig):
    """Cameras, their encrypted credentials, status and heartbeats, and the stream supervisor."""

    name = "cameras"
    verbose_name = "Cameras"
