from django.apps import AppConfig


class DetectionsConfig(AppConfig):
    """The recognition pipeline, tracks, detections, snapshots, the live cache and the
    WebSocket."""

    name = "detections"
    verbose_name = "Detections"

    def ready(self) -> None:
        from cameras.supervisor import register_frame_handler
        from detections import receivers
        from detections.camera_handler import DetectionHandler

        receivers.connect()
        register_frame_handler(DetectionHandler)
