"""One node's Celery process for tests/nodes: Celery's own command line (`python -m
tests.nodes.node beat ...` or `... worker ...`) that also records, in a Redis list of
the test's own (NODES_RECORD_KEY), each task a beat sends and each task a worker starts,
with the time and the process; and a gateway that counts every send it is asked for.
"""

import fcntl
import json
import os
import sys
import time
from pathlib import Path

from registry.notify.backends import OutgoingMessage, SimulatedGateway

RECORD_KEY_ENV = "NODES_RECORD_KEY"


class CountingGateway(SimulatedGateway):
    """The simulated gateway, which deduplicates by reference as a real one does, after
    writing down every send it is asked for, so a test sees a message sent twice even
    where the gateway would have hidden it."""

    def send(self, message: OutgoingMessage) -> str:
        folder = Path(os.environ.get("NOTIFY_SIMULATOR_DIR", "."))
        folder.mkdir(parents=True, exist_ok=True)
        with (folder / "calls.jsonl").open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            handle.write(json.dumps({"channel": message.channel,
                                     "reference": message.reference}) + "\n")
        return super().send(message)

    @staticmethod
    def calls(folder: Path) -> list[dict]:
        path = folder / "calls.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines()]


def _recorder(kind: str):
    import redis

    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    key = os.environ[RECORD_KEY_ENV]

    def record(task: str, task_id: str):
        client.rpush(key, json.dumps({"kind": kind, "task": task, "id": task_id,
                                      "at": time.time(), "pid": os.getpid()}))

    return record


def main(argv: list[str]):
    from celery.signals import before_task_publish, task_prerun

    from config.celery import app

    if argv[0] == "beat":
        record = _recorder("sent")

        @before_task_publish.connect(weak=False)
        def sent(sender=None, headers=None, **kwargs):
            record(sender, headers["id"])
    else:
        record = _recorder("ran")

        @task_prerun.connect(weak=False)
        def ran(task_id=None, task=None, **kwargs):
            record(task.name, task_id)

    app.start(argv)


if __name__ == "__main__":
    main(sys.argv[1:])
