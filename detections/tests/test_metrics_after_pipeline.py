"""GET /metrics after the demo's real run: the generated door video read from a file by the
supervisor, recognised by the pipeline, on an ``entry`` camera that checks people in.

Every series issue 11 names must be in the scrape, parsed by the Prometheus client's own
parser, with the values that run must have produced. Counters and histograms are
process-global (other tests count into them too), so they are compared with a scrape
taken before the run; the database-backed gauges (camera online, outbox) start clean.
"""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

from attendance.models import AttendanceEvent
from cameras.models import Camera
from cameras.testing.supervisor import RunningSupervisor
from config.testing import wait_until
from detections.models import Detection
from detections.tests.test_camera_pipeline import enrol_video_people, one_pass

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

TOKEN = "metrics-token-for-the-pipeline-run-0123456789"

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


class Scrape:
    """One parsed exposition: its families by name and its samples by name and labels."""

    def __init__(self, text: str) -> None:
        families = list(text_string_to_metric_families(text))
        self.families = {family.name for family in families}
        self.samples: Samples = {
            (sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in families
            for sample in family.samples
        }

    def has(self, name: str, **labels: str) -> bool:
        """Whether the sample exists (a counter's child is created before it counts)."""
        return (name, tuple(sorted(labels.items()))) in self.samples

    def value(self, name: str, **labels: str) -> float:
        """The sample's value, 0 when it does not exist yet."""
        return self.samples.get((name, tuple(sorted(labels.items()))), 0.0)

    def total(self, name: str) -> float:
        """The sum of a series over all its labels."""
        return sum(value for (sample, _labels), value in self.samples.items() if sample == name)


def scrape(client) -> Scrape:
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200, response.content
    return Scrape(response.content.decode())


@pytest.fixture
def token(settings) -> str:
    settings.METRICS_TOKEN = TOKEN
    return TOKEN


def test_the_series_after_the_demo_run(client, token, api, media_storage, scene_video, settings):
    settings.CAMERA_FILE_ROOT = scene_video.path.parent
    people = enrol_video_people()
    camera = Camera.objects.create(
        name="Door", source_url=f"file://{scene_video.path}", direction="entry"
    )
    label = str(camera.pk)
    before = scrape(client)
    online = "presence_camera_online"

    def checked_in_and_online() -> Scrape | None:
        current = scrape(client)
        checked_in = AttendanceEvent.objects.filter(camera=camera).count() == len(people)
        return current if checked_in and current.value(online, camera=label) == 1 else None

    with RunningSupervisor(poll_seconds=0.5):
        during = wait_until(
            checked_in_and_online,
            timeout=one_pass(scene_video) + 15,
            interval=0.5,
            message="both people checked in while the camera is online",
        )
        assert during.value("presence_camera_workers") >= 1
    assert api["viewer"].get("/api/v1/detections/live?seconds=60").status_code == 200
    after = scrape(client)

    def grew(name: str, **labels: str) -> float:
        return after.value(name, **labels) - before.value(name, **labels)

    # Frames read and analysed, and the reader's reconnects (a child from the start).
    read = grew("presence_camera_frames_read_total", camera=label)
    analysed = grew("presence_camera_frames_analysed_total", camera=label)
    assert read >= analysed > 0
    assert after.has("presence_camera_reconnects_total", camera=label)
    assert 0 <= during.value("presence_camera_heartbeat_age_seconds", camera=label) < 60

    # Faces, embeddings and where the faces came from (no sub-stream: all from this one).
    assert grew("presence_faces_detected_total", camera=label) > 0
    assert grew("presence_embeddings_computed_total", camera=label) > 0
    assert after.has("presence_faces_from_main_stream_total", camera=label)
    assert grew("presence_faces_from_main_stream_total", camera=label) == 0

    # Detections by status: one count per row, the two enrolled people recognised.
    detections = Detection.objects.filter(camera=camera)
    recorded = after.total("presence_detections_total") - before.total("presence_detections_total")
    assert recorded == detections.count()
    recognized = detections.filter(status="recognized").count()
    assert recognized >= len(people)
    assert grew("presence_detections_total", status="recognized") == recognized

    # Recognition latency: one observation per confirmed detection, each from its frame.
    latency = "presence_recognition_latency_seconds"
    observed = grew(f"{latency}_count")
    assert 0 < observed <= detections.count()
    assert 0 < grew(f"{latency}_sum") < observed * 30
    assert grew(f"{latency}_bucket", le="+Inf") == observed

    # Attendance by source: the camera checked each person in once.
    check_ins = {"source": "camera", "kind": "check_in"}
    assert grew("presence_attendance_events_total", **check_ins) == len(people)

    # The Odoo outbox holds one row per check-in, none pushed (no worker runs here).
    assert after.value("presence_odoo_outbox_rows", state="pending") == len(people)
    assert after.value("presence_odoo_outbox_rows", state="failed") == 0
    assert after.has("presence_odoo_outbox_oldest_age_seconds")
    assert after.value("presence_odoo_outbox_oldest_age_seconds") >= 0

    # Celery failures are declared (no task failed, so no child yet); request latency by view.
    assert "presence_celery_task_failures" in after.families
    request = {"view": "detection-live", "method": "GET", "status": "2xx"}
    assert grew("presence_http_request_duration_seconds_count", **request) == 1
    for collector in ("cameras", "odoo_outbox"):
        assert after.value("presence_metrics_collector_up", collector=collector) == 1

    refused = client.get("/metrics")
    assert refused.status_code == 401
    assert b"presence_" not in refused.content
