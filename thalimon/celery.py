"""Celery application.

The broker is ``CELERY_BROKER_URL`` (or ``REDIS_URL``) from the environment;
with neither, the demo runs a real worker on kombu's ``filesystem://``
transport in ``var/celery`` so that no server is needed.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "thalimon.settings")

app = Celery("thalimon")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
