"""The settings of several nodes, read in a fresh interpreter as a node would: beat's
scheduler and lock with and without Redis, the compressed schedule of the several-nodes
test, and the database options behind PgBouncer."""

import json
import os
import subprocess
import sys

from django.conf import settings

READ = """
import json
from django.conf import settings
db = settings.DATABASES["default"]
print(json.dumps({
    "scheduler": getattr(settings, "CELERY_BEAT_SCHEDULER", None),
    "lock": getattr(settings, "CELERY_REDBEAT_LOCK_TIMEOUT", None),
    "loop": getattr(settings, "CELERY_BEAT_MAX_LOOP_INTERVAL", None),
    "minute": settings.CELERY_BEAT_SCHEDULE["queues-counter-alerts-due"]["schedule"]
        .total_seconds(),
    "cursors": db.get("DISABLE_SERVER_SIDE_CURSORS", False),
    "options": db.get("OPTIONS", {}),
}))
"""


def read_settings(tmp_path, **environment):
    env = {key: value for key, value in os.environ.items()
           if key not in ("DATABASE_URL", "REDIS_URL", "DATABASE_POOLER", "CELERY_BROKER_URL")
           and not key.startswith("EOPEN_BEAT_")}
    env.update({"DJANGO_SETTINGS_MODULE": "config.settings",
                "EOPEN_VAR_DIR": str(tmp_path / "var"), **environment})
    return subprocess.run([sys.executable, "-c", READ], cwd=settings.BASE_DIR, env=env,
                          capture_output=True, text=True, timeout=60)


def values(result) -> dict:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def test_without_redis_beat_keeps_its_file_schedule_and_the_schedule_its_minutes(tmp_path):
    assert values(read_settings(tmp_path)) == {
        "scheduler": None, "lock": None, "loop": None, "minute": 60.0, "cursors": False,
        "options": {"init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                    "transaction_mode": "IMMEDIATE", "timeout": 20}}
    assert settings.CELERY_BEAT_SCHEDULE["queues-counter-alerts-due"]["schedule"]\
        .total_seconds() == 60.0


def test_with_redis_every_beat_uses_redbeat_and_its_lock(tmp_path):
    found = values(read_settings(tmp_path, REDIS_URL="redis://127.0.0.1:6379/9"))
    assert (found["scheduler"], found["lock"], found["loop"]) == (
        "redbeat.RedBeatScheduler", 30, 5)
    compressed = values(read_settings(
        tmp_path, REDIS_URL="redis://127.0.0.1:6379/9", EOPEN_BEAT_TIME_SCALE="60",
        EOPEN_BEAT_LOCK_SECONDS="5", EOPEN_BEAT_LOOP_SECONDS="1"))
    assert (compressed["lock"], compressed["loop"], compressed["minute"]) == (5, 1, 1.0)


def test_behind_pgbouncer_nothing_outlives_a_transaction(tmp_path):
    url = "postgres://eopen:secret@127.0.0.1:6432/eopen"
    direct = values(read_settings(tmp_path, DATABASE_URL=url))
    assert (direct["cursors"], direct["options"]) == (False, {})
    pooled = values(read_settings(tmp_path, DATABASE_URL=url, DATABASE_POOLER="PgBouncer"))
    assert (pooled["cursors"], pooled["options"]) == (True, {"prepare_threshold": None})


def test_an_unknown_pooler_is_refused_with_its_name(tmp_path):
    result = read_settings(tmp_path, DATABASE_URL="postgres://eopen:secret@127.0.0.1/eopen",
                           DATABASE_POOLER="pgpool")
    assert result.returncode == 1
    assert ("django.core.exceptions.ImproperlyConfigured: DATABASE_POOLER is 'pgpool'; the "
            "only pooler known is 'pgbouncer' (leave it unset for a direct connection)."
            ) in result.stderr
