# Presence: one image for web (daphne), worker, beat and camera supervisors.
FROM python:3.11-slim-bookworm AS base

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=config.settings

# ffmpeg is the per-camera decoder process (CAMERA_DECODER=ffmpeg); OpenCV brings its own
# FFmpeg libraries; curl serves the healthchecks.
RUN apt-get update \
    && apt-get install -y --no-install-recommends curl ffmpeg libgomp1 \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements/ requirements/
# insightface goes in with --no-deps: it asks for opencv-python (needs libGL), and the
# headless build from base.txt must stay the one that imports.
RUN pip install -r requirements/prod.txt \
    && pip install --no-deps -r requirements/nodeps.txt \
    && ! pip show --quiet opencv-python 2>/dev/null \
    && python -c "import cv2, insightface, onnxruntime"

COPY . .
RUN useradd --system --uid 10001 --home-dir /app presence \
    && mkdir -p /app/var/metrics /app/media /app/staticfiles \
    && python manage.py collectstatic --noinput --verbosity 0 \
    && chown -R presence:presence /app/var /app/media /app/staticfiles
USER presence

EXPOSE 8000
# WEB_CONCURRENCY daphne processes (default: one per core) on one socket: config/launcher.py.
CMD ["python", "manage.py", "serve", "--bind", "0.0.0.0:8000"]
