"""Two-stream cameras: what the main stream's pixels buy, and what finding a face in them costs.

One command (``python benchmarks/two_streams.py``). t1 at 2x stands for the main stream and
t1 at a smaller scale for the sub-stream; the six people are enrolled from t1 at 2x, as
``faces.enrolment`` does it (detection at the engine's width). For each sub-stream scale
and a shift of the people between the two frames (the streams are not frame-synchronous:
the person moved), the table gives each way of embedding a face its mean and worst cosine
similarity to the person's own enrolment:

* ``sub``: the sub-stream's pixels and landmarks (what the pipeline embeds);
* ``main, scaled``: the sub-stream's landmarks scaled onto the main stream's pixels;
* ``main, found``: landmarks of the face searched again in the main frame.

and how many faces ``detections.pipeline.detail.locate`` found in the main frame (where a
crop is cut from it) with its time per face. The engine runs on one thread.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    """Print the table for each sub-stream scale and shift."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", type=float, nargs="+", default=[1.0, 0.5, 0.4])
    parser.add_argument("--shifts", type=float, nargs="+", default=[0.0, 0.15, 0.3])
    args = parser.parse_args(argv)
    os.environ.setdefault("FACE_ORT_THREADS", "1")
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    from benchmarks.identify_overhead import setup_django

    setup_django()
    print(
        "| sub scale | shift (face widths) | sub mean / min | main, scaled mean / min "
        "| main, found mean / min | found in main | locate ms/face |"
    )
    print("|---:|---:|---|---|---|---:|---:|")
    for scale in args.scales:
        for shift in args.shifts:
            print(row(scale, shift))
    return 0


def row(scale: float, shift: float) -> str:
    """One line of the table: sub-stream at ``scale``, people moved ``shift`` face widths."""
    import numpy as np

    from detections.pipeline.detail import find_in, locate, scale_face
    from faces.engine import get_engine
    from faces.testing import scaled, t1

    engine = get_engine()
    main_image, sub = scaled(t1(), 2.0), scaled(t1(), scale)
    enrolled = by_x(engine.detect(main_image))
    enrolment = engine.embed_many(main_image, enrolled)
    faces = by_x(engine.detect(sub))
    if len(faces) != len(enrolled):
        return f"| {scale:g} | {shift:g} | {len(faces)} of {len(enrolled)} faces found | | | | |"
    pixels = round(shift * statistics.median(face.width for face in enrolled))
    moved = np.roll(main_image, pixels, axis=1)
    factor = main_image.shape[1] / sub.shape[1]
    expected = [scale_face(face, factor, factor) for face in faces]
    found = [find_in(engine, moved, face, factor) for face in expected]
    started = time.perf_counter()
    located = [locate(engine, face, sub.shape, moved) for face in faces]
    per_face_ms = (time.perf_counter() - started) * 1000 / len(faces)

    def similarity(image: np.ndarray, chosen: list) -> str:
        if any(face is None for face in chosen):
            return "not found"
        values = np.sum(engine.embed_many(image, chosen) * enrolment, axis=1)
        return f"{values.mean():.3f} / {values.min():.3f}"

    return (
        f"| {scale:g} | {shift:g} | {similarity(sub, faces)} | {similarity(moved, expected)} "
        f"| {similarity(moved, found)} | {sum(f is not None for f in located)} of {len(faces)} "
        f"| {per_face_ms:.1f} |"
    )


def by_x(faces: list) -> list:
    """Faces left to right, the order the people are numbered in."""
    return sorted(faces, key=lambda face: face.bbox[0])


if __name__ == "__main__":
    raise SystemExit(main())
