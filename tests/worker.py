"""A real Celery worker for the tests that are about the worker.

The worker is a separate process on a real broker (Redis when REDIS_URL is set, as in
CI; otherwise the filesystem transport that `make run` uses), on a queue of its own,
reading the test database. This process is pointed at the same broker and queue
while the worker runs.
"""

import os
import re
import signal
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager, suppress
from pathlib import Path

from django.conf import settings
from django.db import connection

from config.celery import app

READY_TIMEOUT = 60


def _database_env() -> dict:
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return {"SQLITE_PATH": str(db["NAME"]), "DATABASE_URL": ""}
    user, password = db.get("USER") or "", db.get("PASSWORD") or ""
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host, port = db.get("HOST") or "localhost", db.get("PORT") or 5432
    return {"DATABASE_URL": f"postgres://{auth}{host}:{port}/{db['NAME']}"}


def broker_for(tmp_path: Path) -> tuple[str, dict]:
    redis_url = os.environ.get("REDIS_URL")
    if redis_url:
        return redis_url, {"visibility_timeout": 3600}
    folder = tmp_path / "broker"
    for sub in ("queue", "processed", "control"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    return "filesystem://", {"data_folder_in": str(folder / "queue"),
                             "data_folder_out": str(folder / "queue"),
                             "processed_folder": str(folder / "processed"),
                             "control_folder": str(folder / "control")}


def drop_connections():
    """Forget pooled broker connections so the next publish uses the current conf."""
    from kombu import pools

    pools.reset()  # kombu keeps producer pools per connection in a global registry
    app._pool = None
    app.amqp._producer_pool = None


@contextmanager
def app_on_broker(broker_url: str, options: dict, queue: str):
    """Point this process's Celery app at a broker and queue, then restore it."""
    saved = (app.conf.broker_url, app.conf.broker_transport_options,
             app.conf.task_default_queue)
    drop_connections()
    app.conf.broker_url = broker_url
    app.conf.broker_transport_options = options
    app.conf.task_default_queue = queue
    app.amqp.queues = app.amqp.Queues(())  # rebuilt for the new default queue
    try:
        yield
    finally:
        drop_connections()
        (app.conf.broker_url, app.conf.broker_transport_options,
         app.conf.task_default_queue) = saved
        app.amqp.queues = app.amqp.Queues(())


class Worker:
    def __init__(self, process, log_path: Path, env: dict, args: list[str]):
        self.process = process
        self.log_path = log_path
        self.env = env
        self.args = args

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def wait_ready(self, already: int = 0):
        """Wait for the worker's "ready." line (the `already`+1-th one after a restart)."""
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if self.log().count(" ready.") > already:
                return
            if self.process.poll() is not None:
                raise RuntimeError(f"The worker exited:\n{self.log()}")
            time.sleep(0.2)
        raise TimeoutError(f"The worker did not start:\n{self.log()}")

    def kill(self, sig=signal.SIGKILL):
        """Stop the worker and its pool processes; SIGKILL is a crash.

        Any other signal goes to the main process alone, which stops its pool itself:
        sent to the pool processes too, one can die holding the pool's queue lock and
        leave the main process waiting for that lock for ever (billiard's
        _help_stuff_finish). Whatever is left after 30 s is killed."""
        try:
            if sig == signal.SIGKILL:
                os.killpg(self.process.pid, sig)
            else:
                os.kill(self.process.pid, sig)
        except ProcessLookupError:
            return
        with suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=30)
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def restart(self):
        self.kill()
        started = self.log().count(" ready.")
        self.process = subprocess.Popen(
            self.args, env=self.env, stdout=self.log_path.open("a"),
            stderr=subprocess.STDOUT, start_new_session=True, cwd=settings.BASE_DIR)
        self.wait_ready(already=started)


@contextmanager
def real_worker(tmp_path: Path, *, concurrency: int = 1, extra_env: dict | None = None,
                entry: list[str] | None = None):
    """A worker on a queue of its own; `entry` is the command before `worker ...`
    (Celery's own by default; a benchmark may wrap it to count what it measures)."""
    broker_url, options = broker_for(tmp_path)
    queue = f"eopen-test-{uuid.uuid4().hex[:10]}"
    env = {**os.environ, **_database_env(), "CELERY_BROKER_URL": broker_url,
           "CELERY_QUEUE": queue, "CELERY_FS_BROKER_DIR": str(tmp_path / "broker"),
           "NOTIFY_SIMULATOR_DIR": str(settings.NOTIFY_SIMULATOR_DIR), **(extra_env or {})}
    args = [*(entry or [sys.executable, "-m", "celery", "-A", "config"]), "worker",
            "--loglevel=INFO", f"--concurrency={concurrency}", "-Q", queue,
            "--without-gossip", "--without-mingle", "--without-heartbeat", "-n",
            f"{queue}@%h"]
    log_path = tmp_path / "worker.log"
    process = subprocess.Popen(args, env=env, stdout=log_path.open("w"),
                               stderr=subprocess.STDOUT, start_new_session=True,
                               cwd=settings.BASE_DIR)
    worker = Worker(process, log_path, env, args)
    try:
        with app_on_broker(broker_url, options, queue):
            worker.wait_ready()
            yield worker
    finally:
        worker.kill(signal.SIGTERM)
        if os.environ.get("REDIS_URL"):
            import redis

            redis.Redis.from_url(os.environ["REDIS_URL"]).delete(queue)


def wait_for(predicate, *, timeout: float = 30, interval: float = 0.2, message: str = ""):
    """Poll until `predicate()` is truthy; fail with `message` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(message or f"Condition not met within {timeout} s")


def runs_of(task_name: str, *workers: Worker) -> list[int]:
    """What each finished run of the task returned (an int), from the workers' logs."""
    pattern = re.compile(rf"Task {re.escape(task_name)}\[[^\]]+\] succeeded in [\d.]+s: (\d+)")
    return [int(n) for worker in workers for n in pattern.findall(worker.log())]


def failures_of(task_name: str, *workers: Worker) -> int:
    """How many runs of the task failed, from the workers' logs."""
    pattern = re.compile(rf"Task {re.escape(task_name)}\[[^\]]+\] raised unexpected")
    return sum(len(pattern.findall(worker.log())) for worker in workers)
