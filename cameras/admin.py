"""Back-office for cameras: status badges, the newest frame, and a probe action."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from accounts.admin_audit import AuditedModelAdmin
from accounts.admin_images import PrivateImage, PrivateImageAdminMixin
from accounts.roles import AdminCapability
from cameras.models import Camera, CameraStatus
from cameras.services import (
    STATUS_FIELDS,
    clean_source,
    connect_guard,
    move_credentials,
    move_main_stream_credentials,
    status_after_edit,
)
from cameras.snapshots import latest_snapshot
from cameras.sources import SourceError, mask_url
from cameras.streams.probe import probe_source

#: Shown through methods that mask them again, never as stored.
ERROR_FIELDS = ("status", "last_error", "decoder_error", "main_stream_error")

STATUS_COLOURS = {
    CameraStatus.ONLINE: "#1a7f37",
    CameraStatus.OFFLINE: "#9a6700",
    CameraStatus.ERROR: "#cf222e",
    CameraStatus.DISABLED: "#6e7781",
}


class RegionField(forms.JSONField):
    """The region of interest as JSON, where empty means the whole frame: an empty box
    with that said in it, instead of Django's "null"."""

    def __init__(self, **kwargs: object) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault(
            "widget",
            forms.Textarea(attrs={"rows": 3, "placeholder": "Whole frame (leave empty)"}),
        )
        kwargs.setdefault(
            "help_text",
            "Empty: the whole frame. Or a polygon of [x, y] points from 0 to 1, e.g. "
            "[[0.2, 0], [0.8, 0], [0.8, 1], [0.2, 1]].",
        )
        super().__init__(**kwargs)

    def prepare_value(self, value: object) -> object:
        """No region is an empty box, not the word null."""
        if value is None or value == "null":
            return ""
        return super().prepare_value(value)


def describe_roi(roi: list | None) -> str:
    """A camera's region of interest in words."""
    if not roi:
        return "whole frame"
    return f"{len(roi)}-point region"


class CameraForm(forms.ModelForm):
    """The password is never shown; leaving it empty keeps the stored one."""

    password = forms.CharField(
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="Leave empty to keep the current password.",
    )
    clear_password = forms.BooleanField(required=False, label="Remove the stored password")
    roi = RegionField(label="Region of interest")

    class Meta:
        model = Camera
        fields = [
            "name",
            "source_url",
            "main_stream_url",
            "username",
            "password",
            "location",
            "direction",
            "enabled",
            "analysis_fps",
            "detection_width",
            "min_face_size",
            "roi",
        ]

    def clean_source_url(self) -> str:
        """The same scheme and network checks as the API (``CAMERA_ALLOWED_NETWORKS``)."""
        try:
            return clean_source(self.cleaned_data["source_url"])
        except SourceError as exc:
            raise forms.ValidationError(str(exc)) from exc

    def clean_main_stream_url(self) -> str:
        """Empty, or a source under the same rules as ``source_url``."""
        value = self.cleaned_data.get("main_stream_url") or ""
        if not value.strip():
            return ""
        try:
            return clean_source(value)
        except SourceError as exc:
            raise forms.ValidationError(str(exc)) from exc

    def clean(self) -> dict:
        """Moves credentials out of the URLs into encrypted fields, and keeps the stored
        password when the (write-only) field is left empty."""
        stored = self.instance.pk is not None
        previous = self.instance.query_secrets if stored else None
        cleaned = move_credentials(super().clean(), previous)
        if cleaned.get("clear_password"):
            cleaned["password"] = ""
        elif not cleaned.get("password") and stored:
            cleaned["password"] = self.instance.password
        if "main_stream_url" in cleaned:
            try:
                move_main_stream_credentials(
                    cleaned,
                    self.instance.main_stream_query_secrets if stored else None,
                    (self.instance.username, self.instance.password) if stored else ("", ""),
                )
            except SourceError as exc:
                self.add_error("main_stream_url", str(exc))
        return cleaned

    def save(self, commit: bool = True) -> Camera:
        """Writes the secrets the form cleaned, and resets the status an edit invalidates."""
        camera = super().save(commit=False)
        camera.password = self.cleaned_data.get("password", "")
        if "url_secrets" in self.cleaned_data:
            camera.url_secrets = self.cleaned_data["url_secrets"]
        if "main_stream_url_secrets" in self.cleaned_data:
            camera.main_stream_url_secrets = self.cleaned_data["main_stream_url_secrets"]
        camera.status = status_after_edit(camera.enabled, camera.status) or camera.status
        if commit:
            camera.save()
        return camera


@admin.register(Camera)
class CameraAdmin(PrivateImageAdminMixin, AuditedModelAdmin):
    """Cameras; the newest frame is shown (and its reading audited: it shows faces)."""

    form = CameraForm
    private_images = (PrivateImage("snapshot", read=lambda camera: latest_snapshot(camera.pk)),)
    list_display = (
        "name",
        "location",
        "direction",
        "enabled",
        "status_badge",
        "region",
        "last_frame_at",
        "decoder_state",
        "fps",
        "analysed_fps",
        "dropped_frames",
        "reconnects_last_hour",
    )
    list_filter = ("status", "direction", "enabled")
    search_fields = ("name", "location")
    status_section = (
        "snapshot",
        "status_badge",
        *(f for f in STATUS_FIELDS if f not in ERROR_FIELDS),
        "error",
        "decoder_error_masked",
        "main_stream_error_masked",
        "lease_owner",
        "lease_expires_at",
    )
    readonly_fields = status_section
    fieldsets = (
        (None, {"fields": ("name", "location", "direction", "enabled")}),
        (
            "Source",
            {
                "fields": (
                    "source_url",
                    "main_stream_url",
                    "username",
                    "password",
                    "clear_password",
                )
            },
        ),
        ("Analysis", {"fields": ("analysis_fps", "detection_width", "min_face_size", "roi")}),
        ("Status", {"fields": status_section}),
    )
    actions = ["test_sources"]

    @admin.display(description="status", ordering="status")
    def status_badge(self, camera: Camera) -> str:
        """The status as a coloured badge, readable at a glance in the list."""
        return format_html(
            '<span style="color:#fff;background:{};padding:2px 8px;border-radius:8px">{}</span>',
            STATUS_COLOURS.get(camera.status, "#6e7781"),
            camera.get_status_display(),
        )

    @admin.display(description="region of interest")
    def region(self, camera: Camera) -> str:
        """The region of interest in words ("whole frame" when there is none)."""
        return describe_roi(camera.roi)

    @admin.display(description="last error")
    def error(self, camera: Camera) -> str:
        """The last error with any credential masked."""
        return camera.redact(camera.last_error) or "-"

    @admin.display(description="decoder's last error")
    def decoder_error_masked(self, camera: Camera) -> str:
        """The reader's last error, kept after it recovered, with any credential masked."""
        return camera.redact(mask_url(camera.decoder_error)) or "-"

    @admin.display(description="main stream's last error")
    def main_stream_error_masked(self, camera: Camera) -> str:
        """The main stream reader's last error, with any credential masked."""
        return camera.redact(mask_url(camera.main_stream_error)) or "-"

    @admin.display(description="newest frame")
    def snapshot(self, camera: Camera) -> str:
        """The newest frame through the private image view (role check, read trace)."""
        if not camera.pk:
            return "-"
        url = reverse("admin:cameras_camera_snapshot", args=[camera.pk])
        return format_html('<img src="{}" style="max-width:480px" alt="no recent frame">', url)

    @admin.action(
        description="Test the source (within 10 s)", permissions=[AdminCapability.PROBE_CAMERA]
    )
    def test_sources(self, request: HttpRequest, queryset: QuerySet[Camera]) -> None:
        """Opens each source (at most five, ten seconds each) and reports what it saw."""
        for camera in queryset[:5]:
            result = probe_source(
                camera.open_target(),
                timeout=10.0,
                label=camera.masked_source_url,
                guard=connect_guard(camera.source_url),
            )
            if result.ok:
                size = f"{result.width}x{result.height}"
                message = f"{camera.name}: OK, {size} at {result.fps or 0:.1f} fps"
                self.message_user(request, message, messages.SUCCESS)
            else:
                error = camera.redact(result.error or "no frame")
                self.message_user(request, f"{camera.name}: {error}", messages.ERROR)
