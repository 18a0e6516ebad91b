"""Celery tasks of the attendance app (declared as periodic jobs in ``config.periodic``)."""

from celery import shared_task


@shared_task(name="attendance.tasks.auto_close_open_attendances")
def auto_close_open_attendances() -> int:
    """Close attendances open longer than their schedule's maximum shift."""
    from attendance.events import auto_close_open_attendances as close

    return close()


@shared_task(name="attendance.tasks.close_yesterday")
def close_yesterday() -> int:
    """Recompute everyone's previous local date; hourly, so each time zone's "yesterday"
    is settled soon after its midnight."""
    from attendance.day_records import close_yesterday as close

    return close()


@shared_task(name="attendance.tasks.decide_pending_sightings")
def decide_pending_sightings() -> int:
    """Decide recognised detections left without a decision (a process that died with
    them queued for a batch)."""
    from attendance.batcher import decide_pending_sightings as decide

    return decide()
