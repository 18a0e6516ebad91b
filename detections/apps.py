from django.apps import AppConfig


class DetectionsConfig(AppConfig):
    """The recognition pipeline, tracks, detections, snapshots, the live cache and the WebSocket."""

    name = "detections"
    verbose_name = "Detections"
