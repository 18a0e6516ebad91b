"""People (the employees the cameras recognise), their face samples and embeddings.

An embedding belongs to a sample *and* a model: when the face engine changes, samples are
re-embedded into new rows while the old ones keep serving the gallery (see
``faces.reembedding``), so recognition never stops during a model switch.
"""

from __future__ import annotations

import uuid

import numpy as np
from django.conf import settings
from django.db import models
from django.utils import timezone


class Department(models.Model):
    """A team people belong to, for filtering and for the HR side (Odoo departments)."""

    name = models.CharField(max_length=120, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Person(models.Model):
    """An employee. Biometric data may only be stored after consent was recorded."""

    employee_code = models.CharField(max_length=64, unique=True)
    full_name = models.CharField(max_length=200)
    email = models.EmailField(blank=True)
    department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.SET_NULL, related_name="people"
    )
    job_title = models.CharField(max_length=120, blank=True)
    active = models.BooleanField(default=True)
    consent_at = models.DateTimeField(null=True, blank=True)
    consent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Who recorded the person's consent to biometric processing.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["full_name", "id"]
        verbose_name_plural = "people"

    def __str__(self) -> str:
        return f"{self.full_name} ({self.employee_code})"

    @property
    def has_consent(self) -> bool:
        """Whether biometric processing is allowed: only once consent was recorded."""
        return self.consent_at is not None


def face_upload_path(sample: FaceSample, filename: str) -> str:
    """A random name per person's folder: the uploader's file name may identify them."""
    return f"faces/{sample.person_id}/{uuid.uuid4().hex}.jpg"


class SampleSource(models.TextChoices):
    """How a sample was added, for the audit trail and for re-checking imports."""

    UPLOAD = "upload", "Upload"
    IMPORT = "import", "Bulk import"
    DETECTION = "detection", "From a detection"


class FaceSample(models.Model):
    """One enrolment photo of a person, with the face chosen in it and its quality."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="faces")
    image = models.FileField(upload_to=face_upload_path, max_length=255)
    bbox = models.JSONField(help_text="[x, y, w, h] of the face in the stored image.")
    landmarks = models.JSONField(help_text="Five (x, y) points: eyes, nose, mouth corners.")
    quality = models.JSONField(default=dict)
    source = models.CharField(max_length=20, choices=SampleSource.choices)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"face #{self.pk} of {self.person}"


class FaceEmbedding(models.Model):
    """A sample's embedding under one model: unit-length float32 bytes."""

    sample = models.ForeignKey(FaceSample, on_delete=models.CASCADE, related_name="embeddings")
    model_key = models.CharField(max_length=100, db_index=True)
    dim = models.PositiveSmallIntegerField()
    vector = models.BinaryField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["sample", "model_key"], name="one_embedding_per_model")
        ]

    def __str__(self) -> str:
        return f"{self.model_key} embedding of sample #{self.sample_id}"

    def as_array(self) -> np.ndarray:
        """The vector as float32, ready for the gallery matrix."""
        return np.frombuffer(bytes(self.vector), dtype=np.float32)


class ReembedStatus(models.TextChoices):
    """Where a re-embedding job is; pending and running jobs block a new one."""

    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class ReembedJob(models.Model):
    """Re-embedding every sample under a new model, with progress for the admin and API."""

    model_key = models.CharField(max_length=100)
    status = models.CharField(
        max_length=10, choices=ReembedStatus.choices, default=ReembedStatus.PENDING
    )
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"re-embed to {self.model_key}: {self.done}/{self.total} ({self.status})"

    @property
    def progress(self) -> float:
        """Share of the samples done, from 0 to 1 (1 for an empty gallery)."""
        return 1.0 if self.total == 0 else round(self.done / self.total, 4)
