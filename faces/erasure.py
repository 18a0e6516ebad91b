"""Erasing a person's biometric data: every photo, embedding and stored face image.

The person stays (attendance history refers to them) but their consent is cleared, so
nothing can be enrolled again until it is recorded anew. Rows go in one transaction;
files go once it commits (``faces.signals``); apps holding face images of their own
remove them through ``person_erased``.
"""

from __future__ import annotations

from django.db import transaction

from accounts import audit
from accounts.models import AuditAction
from faces.models import FaceEmbedding, FaceSample, Person
from faces.signals import person_erased


def erase_person(person: Person, context: audit.AuditContext) -> dict[str, int]:
    """Delete every biometric of the person, audited, and say how many of each went."""
    with transaction.atomic():
        person = Person.objects.select_for_update().get(pk=person.pk)
        embeddings, _ = FaceEmbedding.objects.filter(sample__person=person).delete()
        samples = list(FaceSample.objects.filter(person=person))
        for sample in samples:
            sample.delete()
        person.consent_at = None
        person.consent_by = None
        person.save(update_fields=["consent_at", "consent_by", "updated_at"])
        removed = {"samples": len(samples), "embeddings": embeddings}
        for _receiver, extra in person_erased.send(Person, person=person, context=context):
            if isinstance(extra, dict):
                removed.update(extra)
        audit.record(AuditAction.ERASE, person, context, {"removed": removed})
    return removed
