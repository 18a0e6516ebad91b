from django.apps import AppConfig


def detection_handler(camera):
    """Imported on first use: the pipeline pulls in scipy and the face engine, which only
    camera supervisors need, not every web request or management command."""
    from detections.camera_handler import DetectionHandler

    return DetectionHandler(camera)


class DetectionsConfig(AppConfig):
    """The recognition pipeline, tracks, detections, snapshots, the live cache and the
    WebSocket."""

    name = "detections"
    verbose_name = "Detections"

    def ready(self) -> None:
        from cameras.supervisor import register_frame_handler
        from detections import receivers

        receivers.connect()
        register_frame_handler(detection_handler)
