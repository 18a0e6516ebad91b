"""Celery tasks of the faces app."""

from celery import shared_task

from accounts.audit import AuditContext


@shared_task(name="faces.tasks.reembed_samples")
def reembed_samples(job_id: int) -> None:
    """Celery entry point; the work is in ``faces.reembedding`` so it runs without Celery too."""
    from faces.reembedding import run_reembed

    run_reembed(job_id)


@shared_task(name="faces.tasks.ensure_embeddings_current")
def ensure_embeddings_current() -> None:
    """Start a re-embedding job when samples lack an embedding for the current model
    (after the engine or model was changed)."""
    from faces.engine import get_engine
    from faces.models import ReembedJob, ReembedStatus
    from faces.reembedding import samples_missing, start_reembed

    model_key = get_engine().model_key
    missing = samples_missing(model_key).count()
    if not missing:
        return
    last = ReembedJob.objects.filter(model_key=model_key).first()
    if last and last.status == ReembedStatus.DONE and last.failed >= missing:
        return  # only photos that already failed remain; retrying would fail again
    start_reembed(AuditContext())
