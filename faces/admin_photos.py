"""Photo uploads in the back-office, refused in the same plain words as the API.

Django's ``ImageField`` checks uploads with Pillow and answers a corrupt file with
"Upload a valid image" or Pillow's own "Truncated File Read"; the API decodes with
``faces.images`` and says what is wrong (not an image, cut short, too large). The admin's
photo fields use the API's reading, so both say the same thing.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from django import forms

from faces.exceptions import ImageError
from faces.images import decode_or_reject, read_upload


class FacePhotoField(forms.FileField):
    """A photo upload whose cleaned value is the decoded (upright, BGR) image."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("widget", forms.ClearableFileInput(attrs={"accept": "image/*"}))
        kwargs.setdefault("allow_empty_file", True)  # "The file is empty." comes from decoding
        super().__init__(**kwargs)

    def clean(self, data: Any, initial: Any = None) -> np.ndarray | None:
        """The decoded image, or the API's reason for refusing the file."""
        uploaded = super().clean(data, initial)
        if not uploaded:
            return None
        try:
            return decode_or_reject(read_upload(uploaded, "photo"), "photo")
        except ImageError as exc:
            raise forms.ValidationError(exc.message, code=exc.code) from exc
