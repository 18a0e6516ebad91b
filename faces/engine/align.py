"""Five-point face alignment onto the ArcFace 112x112 template.

Both SFace and ArcFace were trained on faces warped so that the eyes, nose and mouth
corners land on the same five template points; an embedding of a crop aligned any other
way is worth little. This is the transform of ``insightface.utils.face_align.norm_crop``
(a least-squares similarity fit), rebuilt on OpenCV so that the default engine does not
import insightface and its dependencies.
"""

from __future__ import annotations

import cv2
import numpy as np

from .base import FaceEngineError

#: ``arcface_dst`` from insightface: target positions of the five landmarks in a 112x112 crop.
ARCFACE_TEMPLATE = np.array(
    [
        [38.2946, 51.6963],
        [73.5318, 51.5014],
        [56.0252, 71.7366],
        [41.5493, 92.3655],
        [70.7299, 92.2041],
    ],
    dtype=np.float32,
)
ARCFACE_TEMPLATE.setflags(write=False)


def similarity_transform(landmarks: np.ndarray, size: int = 112) -> np.ndarray:
    """Return the 2x3 matrix that maps the five landmarks onto the template at ``size``.

    LMEDS keeps the fit robust to one badly placed landmark; when all five agree it refines
    on all of them and matches ``norm_crop`` to within a thousandth of a pixel.
    """
    source = np.asarray(landmarks, dtype=np.float32).reshape(5, 2)
    target = ARCFACE_TEMPLATE * (size / 112.0)
    matrix, _inliers = cv2.estimateAffinePartial2D(source, target, method=cv2.LMEDS)
    if matrix is None:
        raise FaceEngineError("cannot align a face whose landmarks are degenerate")
    return matrix


def align_face(image_bgr: np.ndarray, landmarks: np.ndarray, size: int = 112) -> np.ndarray:
    """Warp the face into a ``size`` x ``size`` crop; pixels outside the image are black."""
    matrix = similarity_transform(landmarks, size)
    return cv2.warpAffine(image_bgr, matrix, (size, size), borderValue=0.0)
