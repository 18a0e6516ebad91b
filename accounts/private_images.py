"""The one way a biometric image leaves the server: streamed privately, read audited.

The API views and the admin (``accounts.admin_images``) both end here once they have
checked the caller, so no path serves an enrolment photo, a face crop or a frame without
an audit row (``accounts.audit_reads``).
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models.fields.files import FieldFile
from django.http import HttpResponse

from accounts.audit import AuditContext
from accounts.audit_reads import record_read
from config.private_files import private_jpeg


def private_image_response(
    source: FieldFile | bytes,
    *,
    context: AuditContext,
    model: type[models.Model],
    image: str,
    object_id: Any,
) -> HttpResponse:
    """``source`` as a private JPEG response, after recording the read.

    The file is opened first, so a read that fails is not recorded as one that happened.
    """
    response = private_jpeg(source)
    try:
        record_read(context, model, image, object_id)
    except BaseException:
        response.close()
        raise
    return response
