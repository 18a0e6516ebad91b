"""The attendance app: turns recognitions into attendance."""

from django.apps import AppConfig


class AttendanceConfig(AppConfig):
    """Shifts, attendance events, daily records, rules, analytics and exports."""

    name = "attendance"
    verbose_name = "Attendance"
