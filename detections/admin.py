"""Back-office for detections and the "who is this?" flow for unknown faces."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Max
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html

from accounts.admin_audit import AuditedModelAdmin, admin_context
from config.errors import DomainError
from config.private_files import private_jpeg
from detections.assignment import assign_group
from detections.models import Detection, UnknownFace


def face_thumbnail(detection_id: int | None, size: int = 64) -> str:
    if not detection_id:
        return "-"
    url = reverse("admin:detections_detection_face", args=[detection_id])
    return format_html('<img src="{}" style="height:{}px;border-radius:4px">', url, size)


@admin.register(Detection)
class DetectionAdmin(AuditedModelAdmin):
    list_display = ("face", "captured_at", "camera_name", "person", "status", "score")
    list_filter = ("status", "camera")
    search_fields = ("person__full_name", "person__employee_code", "camera_name")
    list_select_related = ("person",)
    date_hierarchy = "captured_at"
    fields = (
        "face_large",
        "camera",
        "camera_name",
        "person",
        "status",
        "score",
        "margin",
        "votes",
        "captured_at",
        "last_seen_at",
        "bbox",
        "quality",
        "unknown_face",
        "assigned_by",
        "assigned_at",
    )
    readonly_fields = tuple(f for f in fields if f != "person")
    raw_id_fields = ("person",)

    def has_add_permission(self, request):
        return False

    @admin.display(description="face")
    def face(self, detection: Detection) -> str:
        return face_thumbnail(detection.pk if detection.face_crop else None)

    @admin.display(description="face")
    def face_large(self, detection: Detection) -> str:
        return face_thumbnail(detection.pk if detection.face_crop else None, 200)

    def get_urls(self):
        view = self.admin_site.admin_view(self.face_view)
        return [path("<int:pk>/face/", view, name="detections_detection_face"), *super().get_urls()]

    def face_view(self, request, pk: int):
        """Face crops are never public: streamed to staff who may view detections."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        detection = get_object_or_404(Detection, pk=pk)
        if not detection.face_crop:
            raise Http404("No face image")
        return private_jpeg(detection.face_crop)


class UnknownFaceForm(forms.ModelForm):
    enrol_face = forms.BooleanField(
        required=False, help_text="Also enrol the largest face of the group for this person."
    )

    class Meta:
        model = UnknownFace
        fields = ["resolved_person"]
        labels = {"resolved_person": "This is"}


@admin.register(UnknownFace)
class UnknownFaceAdmin(admin.ModelAdmin):
    """Choosing "This is" labels every detection of the group with that person."""

    form = UnknownFaceForm
    list_display = ("face", "label", "seen_count", "last_seen", "last_camera", "resolved_person")
    list_filter = ("last_camera",)
    list_select_related = ("last_camera", "resolved_person")
    readonly_fields = ("face", "seen_count", "first_seen", "last_seen", "last_camera")
    raw_id_fields = ("resolved_person",)

    def has_add_permission(self, request):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(latest_detection=Max("detections__id"))

    @admin.display(description="group")
    def label(self, group: UnknownFace) -> str:
        return f"unknown #{group.pk}"

    @admin.display(description="face")
    def face(self, group: UnknownFace) -> str:
        return face_thumbnail(getattr(group, "latest_detection", None))

    def save_model(self, request, obj, form, change):
        person = form.cleaned_data.get("resolved_person")
        if person is None:
            return
        try:
            labelled = assign_group(
                obj,
                person,
                enroll=form.cleaned_data.get("enrol_face", False),
                context=admin_context(request),
            )
        except DomainError as exc:
            self.message_user(request, f"Not labelled: {exc.message}", messages.ERROR)
        else:
            self.message_user(request, f"Labelled {labelled} detection(s) as {person}.")
