"""The Celery application (shaped like paperless-ngx's ``paperless/celery.py``).

Configuration comes from Django settings under the ``CELERY_`` prefix; tasks are found
in every installed app's ``tasks.py``.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("presence")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
