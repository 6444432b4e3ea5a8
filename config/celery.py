"""The Celery application. Configuration comes from Django settings (CELERY_*)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("eopen")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_configure.connect
def _redbeat_names(sender, **kwargs):
    """RedBeat tells its settings present by their own names (redbeat_redis_url), not
    the CELERY_ ones of Django's settings: without these it would take the broker's URL
    and transport options, and warn on every start."""
    for name in ("redbeat_redis_url", "redbeat_redis_options"):
        value = sender.conf.get(f"CELERY_{name.upper()}")
        if value is not None:
            sender.conf[name] = value
