"""The attendance app's configuration: connects its receivers at start-up."""

from django.apps import AppConfig


class AttendanceConfig(AppConfig):
    """Shifts, attendance events, daily records, rules, analytics and exports."""

    name = "attendance"
    verbose_name = "Attendance"

    def ready(self) -> None:
        """Connect to the recognised-detection signal of the detections app."""
        from attendance import receivers

        receivers.connect()
