"""How fast the raw face engine is on this machine, without Django.

Camera throughput and the API's latency budget both follow from these numbers, and they
move with the CPU, the onnxruntime thread count and the detection width, so they are
measured here rather than assumed. ``engine_timings`` is importable so that an endpoint
benchmark can subtract the engine's share from a request's time.

Run from the repository root: ``python benchmarks/faces_speed.py --runs 20``. It ends with
the identify endpoint's overhead over the engine (``benchmarks/identify_overhead.py``).
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]


def sample_image(width: int = 1280) -> np.ndarray:
    """insightface's ``t1.jpg`` (six faces, 1280x886) resized to ``width`` pixels wide."""
    spec = importlib.util.find_spec("insightface")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("insightface is not installed; its t1.jpg is the benchmark image")
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / "images" / "t1.jpg"
    image = cv2.imread(str(path))
    height = round(image.shape[0] * width / image.shape[1])
    interpolation = cv2.INTER_AREA if width < image.shape[1] else cv2.INTER_CUBIC
    return cv2.resize(image, (width, height), interpolation=interpolation)


def median_ms(action: Callable[[], object], runs: int) -> float:
    """Median wall time of ``action`` in milliseconds, after one untimed warm-up call."""
    action()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        samples.append((time.perf_counter() - start) * 1000.0)
    return statistics.median(samples)


def engine_timings(engine: Any, image: np.ndarray, runs: int = 20) -> dict[str, float]:
    """Median timings of one engine on one image.

    Keys: ``faces`` (count found), ``detect_ms``, ``embed_ms_per_face`` (one call per face),
    ``embed_many_ms_per_face`` (all faces in one batched call), ``end_to_end_ms`` (detect,
    then embed every face found).
    """
    faces = engine.detect(image)
    count = max(1, len(faces))

    def embed_each() -> None:
        for face in faces:
            engine.embed(image, face)

    def end_to_end() -> None:
        engine.embed_many(image, engine.detect(image))

    return {
        "faces": float(len(faces)),
        "detect_ms": median_ms(lambda: engine.detect(image), runs),
        "embed_ms_per_face": median_ms(embed_each, runs) / count,
        "embed_many_ms_per_face": median_ms(lambda: engine.embed_many(image, faces), runs) / count,
        "end_to_end_ms": median_ms(end_to_end, runs),
    }


def markdown_table(rows: list[tuple[str, dict[str, float]]]) -> str:
    """The timings as the markdown table of BENCHMARKS.md."""
    header = (
        "| configuration | faces | detect ms | embed ms/face | batched embed ms/face "
        "| detect + embed all ms |\n|---|---|---|---|---|---|"
    )
    lines = [header]
    for label, t in rows:
        lines.append(
            f"| {label} | {t['faces']:.0f} | {t['detect_ms']:.1f} | {t['embed_ms_per_face']:.1f} "
            f"| {t['embed_many_ms_per_face']:.1f} | {t['end_to_end_ms']:.1f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Time detection and embedding per configuration and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20, help="timed runs per measure")
    parser.add_argument("--engine", default="sface", help="engine name (FACE_ENGINE)")
    parser.add_argument("--model-dir", default=None, help="FACE_MODEL_DIR for the engine")
    parser.add_argument(
        "--threads", default="1", help="comma-separated onnxruntime thread counts to compare"
    )
    parser.add_argument(
        "--widths", default="640,1280", help="comma-separated detection widths to compare"
    )
    parser.add_argument(
        "--no-endpoint", action="store_true", help="skip the identify endpoint overhead table"
    )
    args = parser.parse_args(argv)

    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    from faces.engine import build_engine

    rows = []
    for threads in (int(value) for value in args.threads.split(",")):
        for width in (int(value) for value in args.widths.split(",")):
            options: dict[str, Any] = {"detect_width": width, "ort_threads": threads}
            if args.model_dir:
                options["model_dir"] = args.model_dir
            engine = build_engine(args.engine, **options)
            image = sample_image(width)
            label = f"{args.engine}, {image.shape[1]}x{image.shape[0]}, {threads} ORT thread(s)"
            rows.append((label, engine_timings(engine, image, args.runs)))
    print(f"median of {args.runs} runs, cv2 threads: {cv2.getNumThreads()}\n")
    print(markdown_table(rows))
    if not args.no_endpoint:
        from benchmarks import identify_overhead

        identify_overhead.setup_django()
        print()
        print(identify_overhead.markdown_table(identify_overhead.measure(args.runs), args.runs))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
