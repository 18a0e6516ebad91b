"""The detections app: wires the pipeline under the camera supervisor."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.apps import AppConfig

if TYPE_CHECKING:
    from cameras.models import Camera
    from detections.camera_handler import DetectionHandler


def detection_handler(camera: Camera) -> DetectionHandler:
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
        """Register with the lower apps here, so they never import this one."""
        from cameras.supervisor import register_frame_handler
        from detections import receivers

        receivers.connect()
        register_frame_handler(detection_handler)
