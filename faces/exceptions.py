"""The faces app's refusals: enrolment, recognition and uploaded images.

Services raise these; the API turns them into the error envelope at the status each
class hints at, and the admin into messages (see ``config.errors``). ``code`` is what
clients branch on and stays the same whichever way a photo reaches the service.
"""

from __future__ import annotations

from http import HTTPStatus

from config.errors import Conflict, DomainError


class FacesError(DomainError):
    """Base of every refusal of the faces app."""


class ConsentRequired(FacesError, Conflict):
    """Biometric processing needs the person's recorded consent first (409)."""

    code = "consent_required"


class NotEnrolled(FacesError, Conflict):
    """A 1:1 verification of someone with no face for the current model (409)."""

    code = "not_enrolled"


class EnrolmentRejected(FacesError):
    """A photo whose face cannot be used (422); ``code`` says why: ``no_face``,
    ``multiple_faces``, ``face_index_out_of_range``, ``face_too_small``, ``too_blurry``,
    ``not_frontal``."""

    status_hint = HTTPStatus.UNPROCESSABLE_ENTITY


class ImageError(FacesError):
    """An uploaded image refused before any face work; ``details`` names the field."""


class ImageMissing(ImageError):
    """No file was sent where a photo was expected (400)."""

    code = "validation_error"


class ImageTooLarge(ImageError):
    """Too many bytes or pixels (413): ``image_too_large`` or ``too_many_pixels``."""

    code = "image_too_large"
    status_hint = HTTPStatus.REQUEST_ENTITY_TOO_LARGE


class UnsupportedImage(ImageError):
    """Not an image format the decoder reads (415)."""

    code = "not_an_image"
    status_hint = HTTPStatus.UNSUPPORTED_MEDIA_TYPE


class CorruptImage(ImageError):
    """A recognised format whose content cannot be decoded (422)."""

    code = "corrupt_image"
    status_hint = HTTPStatus.UNPROCESSABLE_ENTITY
