"""The one admin view that streams a private image (enrolment photo, face crop, frame).

A ModelAdmin lists its images in ``private_images``; the mixin adds one URL per image,
``<pk>/<name>/`` named ``<app>_<model>_<name>``, whose view checks the image's permission
(``has_<permission>_permission``, so the role policy decides), finds the object and
streams the image through ``accounts.private_images``, which audits the read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models.fields.files import FieldFile
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import URLPattern, path

from accounts.admin_audit import admin_context
from accounts.private_images import private_image_response


@dataclass(frozen=True)
class PrivateImage:
    """One image of a model: ``read`` returns it (a stored file or bytes) or nothing."""

    name: str
    read: Callable[[Any], FieldFile | bytes | None]
    permission: str = "view"
    label: str = ""

    @property
    def audit_label(self) -> str:
        """What the audit log calls this image (``label``, else ``name``)."""
        return self.label or self.name


class PrivateImageAdminMixin:
    """Adds the URLs and the view for the ModelAdmin's ``private_images``."""

    private_images: tuple[PrivateImage, ...] = ()

    def get_urls(self) -> list[URLPattern]:
        """The model's URLs, preceded by one per private image."""
        opts = self.model._meta
        own = [
            path(
                f"<int:pk>/{image.name}/",
                self.admin_site.admin_view(self._image_view(image)),
                name=f"{opts.app_label}_{opts.model_name}_{image.name}",
            )
            for image in self.private_images
        ]
        return [*own, *super().get_urls()]

    def _image_view(self, image: PrivateImage) -> Callable[..., HttpResponse]:
        def view(request: HttpRequest, pk: int) -> HttpResponse:
            return self.private_image_view(request, pk, image)

        view.__name__ = f"{image.name}_view"
        return view

    def private_image_view(
        self, request: HttpRequest, pk: int, image: PrivateImage
    ) -> HttpResponse:
        """Stream ``image`` of object ``pk`` to a user whose role allows it."""
        allowed = getattr(self, f"has_{image.permission}_permission")
        if not allowed(request):
            raise PermissionDenied
        obj = get_object_or_404(self.model._default_manager, pk=pk)
        source = image.read(obj)
        if not source:
            raise Http404(f"No {image.audit_label} for this {self.model._meta.verbose_name}.")
        return private_image_response(
            source,
            context=admin_context(request),
            model=self.model,
            image=image.audit_label,
            object_id=obj.pk,
        )
