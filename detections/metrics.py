"""The recognition pipeline's Prometheus series (declared through ``config.metrics``)."""

from __future__ import annotations

from config.metrics import counter, histogram

FACES_DETECTED = counter(
    "faces_detected", "Faces the detector found in analysed frames.", ["camera"]
)
EMBEDDINGS_COMPUTED = counter(
    "embeddings_computed", "Face embeddings the pipeline computed.", ["camera"]
)
FACES_FROM_MAIN_STREAM = counter(
    "faces_from_main_stream",
    "Faces found again in the camera's main stream and taken from its pixels (cameras "
    "with a sub-stream; the rest come from the sub-stream, upscaled).",
    ["camera"],
)
RECOGNITION_LATENCY = histogram(
    "recognition_latency_seconds",
    "From reading the frame that confirmed a track to its detection being recorded "
    "(detection, tracking, embedding, matching, storing the crop and the row).",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 30),
)
DETECTIONS = counter(
    "detections",
    "Detections recorded, by the status they were first recorded with.",
    ["status"],
)
