"""Detections: one row per tracked face per camera, and groups of unknown faces.

A track produces one Detection, created when the track is confirmed and updated if its
verdict changes, so someone standing at a door for a minute is one row. Detections keep
the camera's name so history survives a camera being deleted.
"""

from __future__ import annotations

import uuid

import numpy as np
from django.conf import settings
from django.db import models
from django.utils import timezone


class DetectionStatus(models.TextChoices):
    """A detection's match outcome, the same three as ``faces.gallery.MatchStatus``."""

    RECOGNIZED = "recognized", "Recognized"
    UNCERTAIN = "uncertain", "Uncertain"
    UNKNOWN = "unknown", "Unknown"


def detection_image_path(detection: Detection, filename: str) -> str:
    """One folder per camera and day, so retention purges and backups can work by folder."""
    day = (detection.captured_at or timezone.now()).strftime("%Y/%m/%d")
    return f"detections/{detection.camera_id or 0}/{day}/{uuid.uuid4().hex}-{filename}"


class UnknownFace(models.Model):
    """A group of detections of one unknown person ("unknown #12, seen 7 times")."""

    model_key = models.CharField(max_length=100, db_index=True)
    centroid = models.BinaryField()
    seen_count = models.PositiveIntegerField(default=0)
    first_seen = models.DateTimeField(default=timezone.now)
    last_seen = models.DateTimeField(default=timezone.now, db_index=True)
    last_camera = models.ForeignKey(
        "cameras.Camera", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_person = models.ForeignKey(
        "faces.Person", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-last_seen", "-id"]

    def __str__(self) -> str:
        return f"unknown #{self.pk}, seen {self.seen_count} times"

    def centroid_array(self) -> np.ndarray:
        """The group's mean embedding as float32, for matching new unknown faces."""
        return np.frombuffer(bytes(self.centroid), dtype=np.float32)


class Detection(models.Model):
    """A person seen by a camera: one row per confirmed track, updated as it goes on."""

    camera = models.ForeignKey(
        "cameras.Camera", null=True, on_delete=models.SET_NULL, related_name="detections"
    )
    camera_name = models.CharField(max_length=100)
    person = models.ForeignKey(
        "faces.Person", null=True, blank=True, on_delete=models.SET_NULL, related_name="detections"
    )
    status = models.CharField(max_length=12, choices=DetectionStatus.choices)
    score = models.FloatField()
    margin = models.FloatField(default=0.0)
    votes = models.PositiveIntegerField(default=0)
    track_id = models.CharField(max_length=64)
    bbox = models.JSONField()
    quality = models.JSONField(default=dict)
    captured_at = models.DateTimeField(db_index=True, help_text="When the face was first seen.")
    last_seen_at = models.DateTimeField(help_text="The track's latest sighting so far.")
    updated_at = models.DateTimeField(auto_now=True)
    model_key = models.CharField(max_length=100)
    face_crop = models.FileField(upload_to=detection_image_path, max_length=255, blank=True)
    frame = models.FileField(upload_to=detection_image_path, max_length=255, blank=True)
    embedding = models.BinaryField(null=True, blank=True)
    unknown_face = models.ForeignKey(
        UnknownFace, null=True, blank=True, on_delete=models.SET_NULL, related_name="detections"
    )
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    assigned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-captured_at", "-id"]
        indexes = [
            models.Index(fields=["camera", "-captured_at"]),
            models.Index(fields=["person", "-captured_at"]),
            models.Index(fields=["status", "-captured_at"]),
            models.Index(fields=["-captured_at", "-id"]),
        ]
        constraints = [
            models.UniqueConstraint(fields=["camera", "track_id"], name="one_detection_per_track")
        ]

    def __str__(self) -> str:
        who = self.person.full_name if self.person_id else self.status
        return f"{who} at {self.camera_name}, {self.captured_at:%Y-%m-%d %H:%M:%S}"
