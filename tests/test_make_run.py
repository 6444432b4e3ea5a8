"""`make run` stops everything it started, whatever the signal, and runs one beat only.

Each test starts `make run` as a developer does, in a session of its own: the run step
only (`-o setup` skips migrate and load_demo; the database is migrated once for the
module and copied), with a var/ folder of its own (SQLite, the filesystem broker, beat's
schedule and lock) and a free port, and with no DATABASE_URL or REDIS_URL (`make run`
runs on the embedded defaults, also in CI). The session holds every process `make run`
starts, whatever process group it is in, so "nothing left" is "no live process in the
session", read from /proc.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from contextlib import suppress
from pathlib import Path

import pytest
import requests
from django.conf import settings

from tests.worker import wait_for

pytestmark = [
    pytest.mark.worker,
    pytest.mark.skipif(not Path("/proc/self/stat").exists(),
                       reason="reads the processes from /proc (Linux)"),
]

START_TIMEOUT = 120  # two cores shared with the rest of the suite: the worker is slow to start
STOP_TIMEOUT = 30


def _clean_env(var_dir: Path) -> dict:
    """The environment of a developer's shell: embedded defaults in `var_dir`."""
    env = {name: os.environ[name] for name in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")
           if name in os.environ}
    return {**env, "EOPEN_VAR_DIR": str(var_dir)}


def _session_processes(session_id: int) -> dict[int, tuple[int, str]]:
    """pid -> (parent pid, command line) of every live process in the session."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
        except OSError:  # gone meanwhile
            continue
        # After "(command name)": state, parent pid, process group, session.
        state, ppid, _pgrp, session = stat[stat.rindex(")") + 2:].split()[:4]
        if int(session) == session_id and state not in {"Z", "X"}:
            found[int(entry.name)] = (int(ppid), cmdline)
    return found


def _is_celery(cmdline: str, command: str) -> bool:
    words = cmdline.split()
    return any(word.endswith("celery") for word in words) and command in words


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class MakeRun:
    """One `make run` in a session of its own; its output is in `log_path`."""

    def __init__(self, var_dir: Path, log_path: Path):
        self.port = _free_port()
        self.log_path = log_path
        # SIGINT at its default, as in a terminal, also when this test runs with SIGINT
        # ignored (in the background of a shell without job control): a process starts
        # with the signals ignored that its parent ignores.
        previous = signal.signal(signal.SIGINT, signal.default_int_handler)
        try:
            self.process = subprocess.Popen(
                ["make", "--no-print-directory", "-o", "setup", "run", f"PORT={self.port}"],
                cwd=settings.BASE_DIR, env=_clean_env(var_dir), stdin=subprocess.DEVNULL,
                stdout=log_path.open("w"), stderr=subprocess.STDOUT, start_new_session=True)
        finally:
            signal.signal(signal.SIGINT, previous)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def processes(self) -> dict[int, tuple[int, str]]:
        return _session_processes(self.process.pid)

    def beats(self) -> list[int]:
        return sorted(pid for pid, (_, cmd) in self.processes().items()
                      if _is_celery(cmd, "beat"))

    def worker_main(self) -> int:
        processes = self.processes()
        workers = {pid for pid, (_, cmd) in processes.items() if _is_celery(cmd, "worker")}
        (main,) = (pid for pid in workers if processes[pid][0] not in workers)
        return main

    def wait_up(self):
        """Until the portal answers, the worker is ready and beat has started."""
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            log = self.log()
            if " ready." in log and "beat: Starting..." in log and self.portal_answers():
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.5)
        raise AssertionError(f"make run did not come up:\n{self.log()}")

    def portal_answers(self) -> bool:
        try:
            return requests.get(f"http://127.0.0.1:{self.port}/", timeout=5).status_code == 200
        except (requests.ConnectionError, requests.Timeout):
            return False

    def wait_gone(self, timeout: float = STOP_TIMEOUT) -> dict[int, tuple[int, str]]:
        """What is still running after `timeout` seconds (nothing, if all went well)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            left = self.processes()
            if not left:
                break
            time.sleep(0.2)
        with suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=1)
        return self.processes()

    def kill_all(self):
        """Leave nothing behind, whatever the test found."""
        for pid in self.processes():
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        with suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=10)


@pytest.fixture(scope="module")
def migrated_db(tmp_path_factory) -> Path:
    """A migrated SQLite database, made once for the module."""
    var_dir = tmp_path_factory.mktemp("make-run-template")
    done = subprocess.run([sys.executable, "manage.py", "migrate", "--noinput"],
                          cwd=settings.BASE_DIR, env=_clean_env(var_dir), text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=300)
    assert done.returncode == 0, done.stdout
    return var_dir / "db.sqlite3"


@pytest.fixture
def start_make_run(migrated_db, tmp_path):
    """start_make_run(name="a") -> a running `make run`, up, in var dir `tmp_path/var`
    (shared by every run of the test, as two `make run` in one checkout share var/)."""
    var_dir = tmp_path / "var"
    var_dir.mkdir()
    shutil.copy(migrated_db, var_dir / "db.sqlite3")
    runs = []

    def start(name="a", *, wait=True):
        run = MakeRun(var_dir, tmp_path / f"make-run-{name}.log")
        runs.append(run)
        if wait:
            run.wait_up()
        return run

    yield start
    for run in runs:
        run.kill_all()


def _assert_all_stopped(run: MakeRun, returncode: int):
    left = run.wait_gone()
    assert left == {}, f"still running after {STOP_TIMEOUT} s: {left}\n{run.log()}"
    assert run.process.returncode == returncode, run.log()


def test_sigterm_to_the_process_group_stops_everything(start_make_run):
    run = start_make_run()
    url = f"http://127.0.0.1:{run.port}"
    assert [line for line in run.log().splitlines() if line.startswith("  ")][:4] == [
        f"  Portal:    {url}/", f"  Admin:     {url}/admin/", f"  API docs:  {url}/api/docs/",
        f"  Staff:     {url}/staff/"]
    assert len(run.beats()) == 1

    os.killpg(run.process.pid, signal.SIGTERM)

    _assert_all_stopped(run, -signal.SIGTERM)


def test_ctrl_c_stops_everything(start_make_run):
    """Ctrl-C in the terminal sends SIGINT to make's whole process group."""
    run = start_make_run()

    os.killpg(run.process.pid, signal.SIGINT)

    _assert_all_stopped(run, -signal.SIGINT)


def test_sigterm_to_make_alone_stops_everything(start_make_run):
    run = start_make_run()

    os.kill(run.process.pid, signal.SIGTERM)

    _assert_all_stopped(run, -signal.SIGTERM)


def test_a_worker_that_hangs_in_shutdown_is_killed(start_make_run):
    """A worker that does not finish its warm shutdown (stopped here, so it never acts
    on the signal) is killed, with its pool, after the grace period."""
    run = start_make_run()
    worker = run.worker_main()
    os.kill(worker, signal.SIGSTOP)

    os.killpg(run.process.pid, signal.SIGTERM)

    _assert_all_stopped(run, -signal.SIGTERM)
    assert "The worker did not stop within 15 s; killed." in run.log().splitlines()


def test_a_killed_worker_leaves_no_beat_running(start_make_run):
    """A worker that crashes takes the server and beat down with it: no scheduler is
    left running on its own to double the periodic tasks after the next `make run`."""
    run = start_make_run()

    os.kill(run.worker_main(), signal.SIGKILL)

    _assert_all_stopped(run, 2)  # make's answer to a failed recipe
    assert ("CommandError: The worker stopped (killed by SIGKILL), so the web server and "
            "beat were stopped too.") in run.log().splitlines()


def test_a_second_make_run_starts_no_second_beat(start_make_run, tmp_path):
    """Two `make run` in one checkout (one var/) would run two schedulers; the second
    refuses to start while the first runs, and the first keeps running."""
    first = start_make_run("first")
    beat = first.beats()
    (supervisor,) = (pid for pid, (_, cmd) in first.processes().items() if "run_portal" in cmd)

    second = start_make_run("second", wait=False)

    _assert_all_stopped(second, 2)
    var_dir = tmp_path / "var"
    assert (f"CommandError: Another `make run` is running on {var_dir} (process {supervisor}), "
            f"and its beat holds {var_dir / 'celerybeat.lock'}. Stop it first: one beat at a "
            "time sends the periodic tasks.") in second.log().splitlines()
    assert len(beat) == 1
    assert first.beats() == beat
    assert first.process.poll() is None
    # Within a while: the server's autoreloader restarts it when a source file changes.
    wait_for(first.portal_answers, timeout=START_TIMEOUT, message=first.log())
