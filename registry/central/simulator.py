"""A central server for development, demos and tests.

It keeps its state in a small SQLite file in CENTRAL_SIMULATOR_DIR, so the web
server, the workers and a test all see the same server: staff (admin), a test or
`manage.py central_simulator` switch an office's link down and up, make it slow, or
make it fail at random. Like the real server it deduplicates jobs by their id: a job
sent twice is done once, and `received()` tells how often each job arrived.

The answer is delayed *after* the job is done, so a sender killed while waiting has
had its job done without knowing it: the worst case for "never twice".
"""

import random
import sqlite3
import time
from contextlib import closing
from pathlib import Path

from django.conf import settings

from registry.central.client import CentralAnswer, CentralClient, CentralRequest, LinkDown

ANY_OFFICE = "*"

SCHEMA = """
CREATE TABLE IF NOT EXISTS link (
    office TEXT PRIMARY KEY, down INTEGER NOT NULL DEFAULT 0,
    latency_ms INTEGER NOT NULL DEFAULT 0, failure_rate REAL NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS received (
    job_id TEXT PRIMARY KEY, office TEXT NOT NULL, kind TEXT NOT NULL,
    application TEXT NOT NULL, reference TEXT NOT NULL, first_at REAL NOT NULL,
    times INTEGER NOT NULL DEFAULT 1);
"""


def _connect() -> sqlite3.Connection:
    folder = Path(settings.CENTRAL_SIMULATOR_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(folder / "central.sqlite3", timeout=30, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.executescript(SCHEMA)
    return connection


class SimulatedCentralClient(CentralClient):
    @staticmethod
    def state(office_code: str) -> dict:
        with closing(_connect()) as db:
            row = db.execute(
                "SELECT down, latency_ms, failure_rate FROM link WHERE office IN (?, ?) "
                "ORDER BY office = ? DESC LIMIT 1", (office_code, ANY_OFFICE, office_code),
            ).fetchone()
        down, latency, rate = row or (0, 0, 0.0)
        return {"down": bool(down), "latency_ms": latency, "failure_rate": rate}

    def _check_link(self, office_code: str) -> dict:
        state = self.state(office_code)
        if state["down"]:
            raise LinkDown("simulated link is down")
        if state["failure_rate"] and random.random() < state["failure_rate"]:  # noqa: S311
            raise LinkDown("simulated intermittent failure")
        return state

    def health(self, *, office_code: str) -> None:
        state = self._check_link(office_code)
        if state["latency_ms"]:
            time.sleep(state["latency_ms"] / 1000)

    def submit(self, request: CentralRequest) -> CentralAnswer:
        state = self._check_link(request.office_code)
        reference = f"SIM-{request.job_id[:8].upper()}"
        with closing(_connect()) as db:
            db.execute("BEGIN IMMEDIATE")
            inserted = db.execute(
                "INSERT OR IGNORE INTO received (job_id, office, kind, application, reference,"
                " first_at) VALUES (?, ?, ?, ?, ?, ?)",
                (request.job_id, request.office_code, request.kind,
                 request.application_number, reference, time.time()),
            ).rowcount
            if not inserted:
                db.execute("UPDATE received SET times = times + 1 WHERE job_id = ?",
                           (request.job_id,))
                reference = db.execute("SELECT reference FROM received WHERE job_id = ?",
                                       (request.job_id,)).fetchone()[0]
            db.execute("COMMIT")
        if state["latency_ms"]:
            time.sleep(state["latency_ms"] / 1000)
        return CentralAnswer(reference=reference, duplicate=not inserted)

    # --- Control, for staff, tests and demos ---------------------------------

    @staticmethod
    def configure(office_code: str = ANY_OFFICE, *, down: bool | None = None,
                  latency_ms: int | None = None, failure_rate: float | None = None) -> dict:
        current = SimulatedCentralClient.state(office_code)
        if down is not None:
            current["down"] = down
        if latency_ms is not None:
            current["latency_ms"] = max(0, int(latency_ms))
        if failure_rate is not None:
            current["failure_rate"] = min(1.0, max(0.0, float(failure_rate)))
        with closing(_connect()) as db:
            db.execute(
                "INSERT INTO link (office, down, latency_ms, failure_rate) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(office) DO UPDATE SET down = excluded.down, "
                "latency_ms = excluded.latency_ms, failure_rate = excluded.failure_rate",
                (office_code, int(current["down"]), current["latency_ms"],
                 current["failure_rate"]),
            )
        return current

    @staticmethod
    def received(office_code: str | None = None) -> list[dict]:
        with closing(_connect()) as db:
            rows = db.execute(
                "SELECT job_id, office, kind, application, reference, times FROM received "
                "WHERE ? IS NULL OR office = ? ORDER BY first_at", (office_code, office_code),
            ).fetchall()
        keys = ("job_id", "office", "kind", "application", "reference", "times")
        return [dict(zip(keys, row, strict=True)) for row in rows]

    @staticmethod
    def reset() -> None:
        with closing(_connect()) as db:
            db.execute("DELETE FROM link")
            db.execute("DELETE FROM received")
