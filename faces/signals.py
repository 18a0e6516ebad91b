"""Keeping the gallery and storage in step with the database.

Any change to a person, sample or embedding bumps the gallery version once the
transaction commits, so every process reloads its matrix; a deleted sample's photo is
removed from storage only after the delete is committed, so a rolled-back delete never
loses a file.

``person_erased`` is the one signal this app sends upward: apps that keep face images of
their own (detections' crops and snapshots) connect to it in their ``apps.py`` and remove
them, inside the erasing transaction.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.files.storage import Storage
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import Signal, receiver

from faces import gallery
from faces.models import FaceEmbedding, FaceSample, Person

logger = logging.getLogger(__name__)

#: Sent with ``person`` (faces.Person) and ``context`` (accounts.audit.AuditContext).
person_erased = Signal()


def _bump_after_commit(**_kwargs: Any) -> None:
    transaction.on_commit(gallery.bump_version)


for model in (Person, FaceSample, FaceEmbedding):
    post_save.connect(_bump_after_commit, sender=model, dispatch_uid=f"gallery-save-{model}")
    post_delete.connect(_bump_after_commit, sender=model, dispatch_uid=f"gallery-del-{model}")


def delete_stored_file(storage: Storage, name: str) -> None:
    """Remove a stored photo; a storage outage is logged rather than failing the caller."""
    try:
        storage.delete(name)
    except Exception:
        logger.exception("Could not delete stored face image %s", name)


@receiver(post_delete, sender=FaceSample, dispatch_uid="faces-delete-sample-file")
def _delete_sample_file(sender: type[FaceSample], instance: FaceSample, **_kwargs: Any) -> None:
    if instance.image and instance.image.name:
        storage, name = instance.image.storage, instance.image.name
        transaction.on_commit(lambda: delete_stored_file(storage, name))
