"""GET /metrics: the series after real events, who may read it, and multiprocess mode."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from prometheus_client import REGISTRY, CollectorRegistry
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families

from attendance.events import add_manual_event
from cameras.models import Camera
from config import celery_app, metrics
from config.metrics_multiprocess import mark_dead_processes
from detections.recording import record_event
from detections.testing import track_event
from faces.tests.conftest import make_person, media_storage  # noqa: F401 - isolated media

TOKEN = "metrics-token-for-tests-0123456789abcdef"
ROOT = Path(__file__).resolve().parents[2]


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of an exposition, by name and sorted labels."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(text: str, name: str, **labels: str) -> float:
    """One sample's value, 0 when the series does not exist (yet)."""
    return samples(text).get((name, tuple(sorted(labels.items()))), 0.0)


def scrape(client, token: str | None = TOKEN, **extra) -> str:
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    response = client.get("/metrics", **headers, **extra)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    return response.content.decode()


@pytest.fixture
def token(settings) -> str:
    settings.METRICS_TOKEN = TOKEN
    return TOKEN


@pytest.mark.django_db
def test_series_after_a_detection_an_attendance_event_and_an_outbox_row(
    client, token, django_capture_on_commit_callbacks
):
    camera = Camera.objects.create(name="Front door", source_url="rtsp://cam.local/stream")
    before = scrape(client)

    record_event(camera, track_event(status="unknown"))
    person = make_person("M-1")
    with django_capture_on_commit_callbacks(execute=True):
        add_manual_event(person, "check_in", timezone.now() - timedelta(hours=1), "paper", None)
    client.get(f"/api/v1/cameras/{camera.pk}")
    after = scrape(client)

    detections = "presence_detections_total"
    assert (
        value(after, detections, status="unknown")
        == value(before, detections, status="unknown") + 1
    )
    events = "presence_attendance_events_total"
    labels = {"source": "manual", "kind": "check_in"}
    assert value(after, events, **labels) == value(before, events, **labels) + 1
    assert value(after, "presence_odoo_outbox_rows", state="pending") == 1
    assert value(after, "presence_odoo_outbox_rows", state="failed") == 0
    assert value(after, "presence_odoo_outbox_oldest_age_seconds") >= 0
    assert ("presence_odoo_outbox_oldest_age_seconds", ()) in samples(after)
    assert value(after, "presence_camera_online", camera=str(camera.pk)) == 0
    for collector in ("cameras", "odoo_outbox"):
        assert value(after, "presence_metrics_collector_up", collector=collector) == 1
    # Request latency is labelled by route name, never by the path with its id in it.
    latency = "presence_http_request_duration_seconds_count"
    detail = {"view": "camera-detail", "method": "GET", "status": "4xx"}
    assert value(after, latency, **detail) == value(before, latency, **detail) + 1
    assert f"/cameras/{camera.pk}" not in after


@pytest.mark.django_db
def test_camera_online_state_comes_from_its_row(client, token):
    camera = Camera.objects.create(
        name="Gate",
        source_url="rtsp://cam.local/gate",
        status="online",
        heartbeat_at=timezone.now(),
    )
    text = scrape(client)
    assert value(text, "presence_camera_online", camera=str(camera.pk)) == 1
    assert 0 <= value(text, "presence_camera_heartbeat_age_seconds", camera=str(camera.pk)) < 60


@pytest.mark.django_db
def test_a_failing_collector_is_reported_and_the_scrape_still_answers(client, token, monkeypatch):
    def broken():
        raise RuntimeError("database unreachable")

    monkeypatch.setitem(metrics._collectors, "broken", broken)
    text = scrape(client)
    assert value(text, "presence_metrics_collector_up", collector="broken") == 0
    assert value(text, "presence_metrics_collector_up", collector="odoo_outbox") == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer wrong-token", f"Basic {TOKEN}", f"Bearer {TOKEN}x", "Bearer", "Bearer \u00e9"],
)
def test_refused_without_the_right_token(client, token, authorization):
    headers = {"HTTP_AUTHORIZATION": authorization} if authorization is not None else {}
    response = client.get("/metrics", **headers)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert b"presence_" not in response.content


@pytest.mark.django_db
def test_refused_from_an_address_outside_the_allowed_networks(client, token, settings):
    settings.METRICS_ALLOWED_NETWORKS = ["10.0.0.0/8"]
    refused = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert refused.status_code == 403
    allowed = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}", REMOTE_ADDR="10.1.2.3")
    assert allowed.status_code == 200
    dual_stack = {"REMOTE_ADDR": "::ffff:10.1.2.3", "HTTP_AUTHORIZATION": f"Bearer {TOKEN}"}
    assert client.get("/metrics", **dual_stack).status_code == 200


@pytest.mark.django_db
def test_forwarded_addresses_count_only_behind_trusted_proxies(client, settings):
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_NETWORKS = ["10.0.0.0/8"]
    forged = {"REMOTE_ADDR": "203.0.113.9", "HTTP_X_FORWARDED_FOR": "10.0.0.5"}
    assert client.get("/metrics", **forged).status_code == 403
    settings.TRUSTED_PROXY_COUNT = 1
    proxied = {"REMOTE_ADDR": "172.30.0.2", "HTTP_X_FORWARDED_FOR": "10.0.0.5"}
    assert client.get("/metrics", **proxied).status_code == 200


@pytest.mark.django_db
def test_loopback_may_read_without_a_token_by_default(client, settings):
    settings.METRICS_TOKEN = ""
    assert scrape(client, token=None)
    assert client.get("/metrics", REMOTE_ADDR="192.0.2.1").status_code == 403


@pytest.mark.django_db
def test_nobody_may_read_when_neither_guard_is_configured(client, settings):
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_NETWORKS = []
    response = client.get("/metrics")
    assert response.status_code == 403
    assert b"METRICS_TOKEN" in response.content


@pytest.mark.django_db
def test_only_get(client, token):
    assert client.post("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 405


def test_a_bad_network_setting_fails_the_system_check(settings):
    from config.apps import check_metrics_networks

    settings.METRICS_ALLOWED_NETWORKS = ["10.0.0.0/8", "not-a-network"]
    (error,) = check_metrics_networks()
    assert error.id == "presence.E001"
    assert "not-a-network" in error.msg


# --- multiprocess mode -----------------------------------------------------------------

# A process that counts 3 frames of camera 7, reads one camera (a live gauge), says so,
# and exits once told to (a line on stdin: "wait") or at once ("exit"); an "idle" one
# counts nothing, like a healthcheck's command.
_WORKER = textwrap.dedent(
    """
    import sys
    from cameras.metrics import FRAMES_READ, WORKERS
    from detections.metrics import RECOGNITION_LATENCY  # unlabelled: its file exists at once
    if sys.argv[1] != "idle":
        FRAMES_READ.labels("7").inc(3)
        WORKERS.inc()
    print("counted", flush=True)
    if sys.argv[1] == "wait":
        sys.stdin.readline()
    """
)


def _start(folder: Path, mode: str) -> subprocess.Popen:
    env = {"PATH": "/usr/bin:/bin", "PROMETHEUS_MULTIPROC_DIR": str(folder)}
    process = subprocess.Popen(
        [sys.executable, "-c", _WORKER, mode],
        cwd=ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout.readline().strip() == "counted"
    return process


def _finish(process: subprocess.Popen) -> None:
    process.communicate("\n", timeout=30)
    assert process.returncode == 0


def _collected(folder: Path) -> str:
    from prometheus_client.exposition import generate_latest

    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=str(folder))
    return generate_latest(registry).decode()


def test_multiprocess_mode_sums_processes_and_forgets_the_dead(tmp_path):
    folder = tmp_path / "metrics"
    first = _start(folder, "wait")
    second = _start(folder, "exit")  # starts while the first is alive: nothing is wiped
    _finish(second)
    assert mark_dead_processes(folder)  # the second has ended
    text = _collected(folder)
    assert value(text, "presence_camera_frames_read_total", camera="7") == 6
    assert value(text, "presence_camera_workers") == 1  # only the live process counts

    _finish(first)
    mark_dead_processes(folder)
    text = _collected(folder)
    assert value(text, "presence_camera_frames_read_total", camera="7") == 6  # kept
    assert value(text, "presence_camera_workers") == 0

    # Nobody alive: the next process is a fresh start of the group and empties the folder.
    _finish(_start(folder, "exit"))
    text = _collected(folder)
    assert value(text, "presence_camera_frames_read_total", camera="7") == 3


@pytest.mark.django_db
def test_the_scrape_sums_the_folder_in_multiprocess_mode(client, token, tmp_path, monkeypatch):
    folder = tmp_path / "metrics"
    processes = [_start(folder, "wait"), _start(folder, "wait")]
    pids = {process.pid for process in processes}
    for process in processes:
        _finish(process)
    # Files are named after host and pid, so containers sharing the folder never collide.
    names = {path.name for path in folder.glob("counter_*.db")}
    assert {name.rsplit("-", 1)[1] for name in names} == {f"{pid}.db" for pid in pids}
    monkeypatch.setattr(metrics, "_MULTIPROCESS_DIR", folder)
    text = scrape(client)
    assert value(text, "presence_camera_frames_read_total", camera="7") == 6
    assert value(text, "presence_camera_workers") == 0  # both ended: marked dead
    assert value(text, "presence_metrics_collector_up", collector="cameras") == 1


@celery_app.task(name="presence.tests.explode")
def explode() -> None:
    """A task that always fails."""
    raise RuntimeError("boom")


def test_a_failed_celery_task_is_counted():
    labels = {"task": "presence.tests.explode"}
    before = REGISTRY.get_sample_value("presence_celery_task_failures_total", labels) or 0
    result = explode.apply(throw=False)
    assert result.failed()
    assert REGISTRY.get_sample_value("presence_celery_task_failures_total", labels) == before + 1


def test_an_ended_process_that_counted_nothing_leaves_no_files(tmp_path):
    folder = tmp_path / "metrics"
    alive = _start(folder, "wait")
    idle = _start(folder, "idle")
    _finish(idle)
    assert any(folder.glob(f"histogram_*-{idle.pid}.db"))
    assert mark_dead_processes(folder)
    assert not any(folder.glob(f"*-{idle.pid}.*"))
    assert any(folder.glob(f"histogram_*-{alive.pid}.db"))  # the live process keeps its own
    _finish(alive)
    mark_dead_processes(folder)
    assert any(folder.glob(f"counter_*-{alive.pid}.db"))  # it counted: its totals stay


@pytest.mark.django_db
def test_a_scrape_costs_one_query_per_database_collector(client, token, django_assert_num_queries):
    for n in range(30):
        Camera.objects.create(name=f"Camera {n}", source_url=f"rtsp://cam{n}.local/stream")
    with django_assert_num_queries(2):  # cameras, outbox
        text = scrape(client)
    assert sum(1 for key in samples(text) if key[0] == "presence_camera_online") == 30
