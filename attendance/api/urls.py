"""Routes of the attendance API, mounted under /api/v1/."""

from attendance.api.views import (
    DayViewSet,
    EventViewSet,
    HolidayViewSet,
    LogViewSet,
    ReportViewSet,
    ScheduleViewSet,
)
from config.api.routers import ApiRouter

router = ApiRouter()
router.register("attendance/schedules", ScheduleViewSet, basename="attendance-schedule")
router.register("attendance/holidays", HolidayViewSet, basename="attendance-holiday")
router.register("attendance/logs", LogViewSet, basename="attendance-log")
router.register("attendance/events", EventViewSet, basename="attendance-event")
router.register("attendance/days", DayViewSet, basename="attendance-day")
router.register("attendance", ReportViewSet, basename="attendance-report")

urlpatterns = [*router.urls]
