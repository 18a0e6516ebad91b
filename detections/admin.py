"""Back-office for detections and the "who is this?" flow for unknown faces."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db.models import Max, Model, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from accounts.admin_audit import AuditedModelAdmin, admin_context
from accounts.admin_images import PrivateImage, PrivateImageAdminMixin
from accounts.admin_panels import AdminPanel, PanelsAdminMixin, add_panel, html_table
from accounts.admin_roles import has_capability
from accounts.roles import AdminCapability
from config.errors import DomainError
from detections.assignment import assign_detection, assign_group
from detections.models import Detection, UnknownFace
from faces.admin import describe_quality
from faces.models import Person

#: Detections shown on a person's page, newest first.
RECENT_DETECTIONS = 10


def face_thumbnail(detection_id: int | None, size: int = 64) -> str:
    """An ``<img>`` of a detection's face crop through the private image view, which checks
    the role and leaves a read trace."""
    if not detection_id:
        return "-"
    url = reverse("admin:detections_detection_face", args=[detection_id])
    return format_html('<img src="{}" style="height:{}px;border-radius:4px">', url, size)


class AssignmentAdminMixin:
    """Changing a detection or a group means labelling it, and the only editable field is
    the label: so "change" is the ``assign_detections`` capability, the API's rule for
    ``POST /detections/{id}/assign``, not the app-wide change permission."""

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        """Labelling is the ``assign_detections`` capability (see the class)."""
        return has_capability(request, AdminCapability.ASSIGN_DETECTIONS)


class DetectionForm(forms.ModelForm):
    """The label of a detection: the only field a person may change."""

    class Meta:
        model = Detection
        fields = ["person"]

    def clean_person(self) -> Person | None:
        """A label may be corrected, not removed: attendance and audit rely on it."""
        person = self.cleaned_data.get("person")
        if person is None and self.instance.person_id is not None:
            raise forms.ValidationError("A labelled detection cannot be unlabelled.")
        return person


@admin.register(Detection)
class DetectionAdmin(
    PanelsAdminMixin, PrivateImageAdminMixin, AssignmentAdminMixin, AuditedModelAdmin
):
    """Detections with their face crops; a person chosen here labels the detection like
    ``POST /detections/{id}/assign``. Higher apps add read-only panels to the page (what
    the sighting did for attendance, ``accounts.admin_panels.add_panel``)."""

    form = DetectionForm
    private_images = (PrivateImage("face", read=lambda detection: detection.face_crop),)
    list_display = ("face", "captured_at", "camera_name", "person", "status", "rounded_score")
    list_filter = ("status", "camera", ("assigned_at", admin.EmptyFieldListFilter))
    search_fields = ("person__full_name", "person__employee_code", "camera_name")
    list_select_related = ("person",)
    date_hierarchy = "captured_at"
    fields = (
        "face_large",
        "camera",
        "camera_name",
        "person",
        "status",
        "rounded_score",
        "rounded_margin",
        "votes",
        "captured_at",
        "last_seen_at",
        "bbox",
        "quality_summary",
        "unknown_face",
        "assigned_by",
        "assigned_at",
    )
    readonly_fields = tuple(f for f in fields if f != "person")
    autocomplete_fields = ("person",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        """Detections come only from cameras."""
        return False

    @admin.display(description="face")
    def face(self, detection: Detection) -> str:
        """The face crop as a list thumbnail."""
        return face_thumbnail(detection.pk if detection.face_crop else None)

    @admin.display(description="face")
    def face_large(self, detection: Detection) -> str:
        """The face crop at a size to recognise someone by."""
        return face_thumbnail(detection.pk if detection.face_crop else None, 200)

    @admin.display(description="score", ordering="score")
    def rounded_score(self, detection: Detection) -> str:
        """The cosine similarity to the person, to two decimals."""
        return f"{detection.score:.2f}"

    @admin.display(description="lead over the next person", ordering="margin")
    def rounded_margin(self, detection: Detection) -> str:
        """The margin, to two decimals."""
        return f"{detection.margin:.2f}"

    @admin.display(description="quality")
    def quality_summary(self, detection: Detection) -> str:
        """The quality the pipeline measured, in words."""
        return describe_quality(detection.quality)

    def save_model(
        self, request: HttpRequest, obj: Detection, form: forms.ModelForm, change: bool
    ) -> None:
        """Label through the same service as the API (status, who and when, audit)."""
        person = form.cleaned_data.get("person")
        if "person" not in form.changed_data or person is None:
            return
        stored = Detection.objects.get(pk=obj.pk)
        assign_detection(stored, person, enroll=False, context=admin_context(request))


class UnknownFaceForm(forms.ModelForm):
    """Who an unknown-face group is, and whether to enrol its best faces for them: on by
    default, since naming a face is how the system learns to recognise it next time."""

    enrol_face = forms.BooleanField(
        required=False,
        initial=True,
        label="Recognise this face from now on",
        help_text="Enrol the group's best face crops (up to a few) for this person; needs "
        "their recorded consent.",
    )

    class Meta:
        model = UnknownFace
        fields = ["resolved_person"]
        labels = {"resolved_person": "This is"}


@admin.register(UnknownFace)
class UnknownFaceAdmin(AssignmentAdminMixin, AuditedModelAdmin):
    """Choosing "This is" labels every detection of the group with that person."""

    form = UnknownFaceForm
    list_display = ("face", "label", "seen_count", "last_seen", "last_camera", "resolved_person")
    list_filter = ("last_camera", ("resolved_person", admin.EmptyFieldListFilter))
    search_fields = ("resolved_person__full_name", "resolved_person__employee_code")
    list_select_related = ("last_camera", "resolved_person")
    readonly_fields = ("face", "seen_count", "first_seen", "last_seen", "last_camera")
    autocomplete_fields = ("resolved_person",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        """Groups come only from the pipeline's clustering of unknown faces."""
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[UnknownFace]:
        """Finds each group's newest detection in the same query, for its thumbnail."""
        return super().get_queryset(request).annotate(latest_detection=Max("detections__id"))

    @admin.display(description="group")
    def label(self, group: UnknownFace) -> str:
        """A name for a group nobody has named yet."""
        return f"unknown #{group.pk}"

    @admin.display(description="face")
    def face(self, group: UnknownFace) -> str:
        """The group's newest face crop."""
        return face_thumbnail(getattr(group, "latest_detection", None))

    def save_model(
        self, request: HttpRequest, obj: UnknownFace, form: UnknownFaceForm, change: bool
    ) -> None:
        """Labels the whole group through the same service as the API; a refusal is a
        message on the page."""
        person = form.cleaned_data.get("resolved_person")
        if person is None:
            return
        try:
            result = assign_group(
                UnknownFace.objects.get(pk=obj.pk),
                person,
                enroll=form.cleaned_data.get("enrol_face", False),
                context=admin_context(request),
            )
        except DomainError as exc:
            self.message_user(request, f"Not labelled: {exc.message}", messages.ERROR)
        else:
            enrolled = f", enrolled {result.enrolled} face(s)" if result.enrolled else ""
            self.message_user(
                request, f"Labelled {result.labelled} detection(s) as {person}{enrolled}."
            )


def recent_detections(person: Person) -> str:
    """The person's newest detections, linked, for their page in the faces admin."""
    detections = Detection.objects.filter(person=person).order_by("-captured_at")
    rows = [
        (
            format_html(
                '<a href="{}">{}</a>',
                reverse("admin:detections_detection_change", args=[d.pk]),
                d.captured_at.strftime("%Y-%m-%d %H:%M:%S"),
            ),
            d.camera_name,
            d.get_status_display(),
            f"{d.score:.2f}",
            "by hand" if d.assigned_at else "camera",
        )
        for d in detections[:RECENT_DETECTIONS]
    ]
    return html_table(
        ("seen", "camera", "status", "score", "labelled"), rows, "Not seen by any camera yet."
    )


add_panel(Person, AdminPanel("Recent detections", Detection, recent_detections))
