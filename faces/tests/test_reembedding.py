"""Re-embedding after a model change: progress, the old gallery kept, the new one filled."""

import pytest

from faces.engine import get_engine
from faces.gallery import Gallery
from faces.models import FaceEmbedding, ReembedJob
from faces.reembedding import run_reembed
from faces.tasks import ensure_embeddings_current

pytestmark = pytest.mark.django_db(transaction=True)

OLD_KEY = "old-model-v0"


def move_embeddings_to_an_old_model():
    """Pretend the samples were embedded by a previous model."""
    FaceEmbedding.objects.update(model_key=OLD_KEY)


def test_reembedding_fills_the_current_model_and_keeps_the_old(api, enrolled_t1, enqueued):
    move_embeddings_to_an_old_model()
    engine = get_engine()
    old_gallery = Gallery(OLD_KEY, engine.dim, check_seconds=0)
    assert old_gallery.index().person_count == 6

    response = api["hr_manager"].post("/api/v1/faces/reembed-jobs")
    assert response.status_code == 202, response.json()
    job_id = response.json()["id"]
    assert response.json()["total"] == 6
    again = api["admin"].post("/api/v1/faces/reembed-jobs").json()
    assert again["id"] == job_id  # one job per model at a time
    assert enqueued == [("faces.tasks.reembed_samples", job_id)]

    job = run_reembed(job_id)
    assert (job.status, job.done, job.total, job.failed) == ("done", 6, 6, 0)
    progress = api["hr_manager"].get(f"/api/v1/faces/reembed-jobs/{job_id}").json()
    assert progress["progress"] == 1.0 and progress["status"] == "done"

    new_gallery = Gallery(engine.model_key, engine.dim, check_seconds=0)
    assert new_gallery.index().person_count == 6
    assert old_gallery.index().person_count == 6
    for enrolled in enrolled_t1:
        sample = enrolled.person.faces.get()
        new_vector = sample.embeddings.get(model_key=engine.model_key).as_array()
        assert new_gallery.match(new_vector).best.person_id == enrolled.person.pk


def test_periodic_check_starts_a_job_only_when_needed(enrolled_t1):
    ensure_embeddings_current()
    assert not ReembedJob.objects.exists()
    move_embeddings_to_an_old_model()
    ensure_embeddings_current()
    job = ReembedJob.objects.get()
    assert job.total == 6


def test_a_photo_that_cannot_be_read_is_counted_not_fatal(enrolled_t1, media_storage):
    move_embeddings_to_an_old_model()
    broken = enrolled_t1[0].person.faces.get()
    (media_storage / broken.image.name).write_bytes(b"garbage")
    job = ReembedJob.objects.create(model_key=get_engine().model_key, total=6)
    job = run_reembed(job.pk)
    assert (job.status, job.done, job.failed) == ("done", 6, 1)
    assert "1 sample" in job.error


def test_reembed_role_rules(api):
    assert api["viewer"].post("/api/v1/faces/reembed-jobs").status_code == 403
    assert api["operator"].get("/api/v1/faces/reembed-jobs").status_code == 403
    assert api["hr_manager"].get("/api/v1/faces/reembed-jobs").status_code == 200
