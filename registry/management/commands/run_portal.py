"""`make run`'s processes: the web server, a Celery worker and Celery beat, stopped together.

Each child runs in a process group of its own, so Ctrl-C in the terminal (a SIGINT to
make's whole foreground group) and a signal to make's group reach make and this
process only, never the worker's pool processes: a pool process signalled directly can
die holding the pool's queue lock and leave the worker in warm shutdown for ever
(billiard's _help_stuff_finish; see tests/worker.py). This process passes SIGINT and
SIGTERM on (SIGHUP as SIGTERM: it restarts a Celery worker) to the worker's main process
alone, which stops its pool itself, and to the server's and beat's whole groups (the
server's autoreloader serves from a child). Whatever is still running STOP_GRACE seconds
after the first signal is killed. When one child ends on its own (a killed worker, a port
in use), the other two are stopped, so a crashed worker never leaves a beat running.

Beat is a process of its own, not the worker's embedded `--beat`, and holds the lock
`var/celerybeat.lock` for its life: it is taken here before anything starts, so a second
`make run` on the same var/ refuses to start while one runs, and one beat at a time sends
the periodic tasks. On Linux each child is also sent SIGTERM if this process dies
without stopping it (killed with SIGKILL).
"""

import ctypes
import fcntl
import os
import signal
import subprocess
import sys
import time
from contextlib import suppress
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

# The worker's warm shutdown waits for its running tasks; a sweep takes seconds here.
STOP_GRACE = 15
POLL_INTERVAL = 0.1
# prctl(2): the signal a process gets when its parent dies.
PR_SET_PDEATHSIG = 1


def _prctl():
    if not sys.platform.startswith("linux"):
        return None
    return ctypes.CDLL(None, use_errno=True).prctl


def _signal_name(sig: int) -> str:
    return signal.Signals(sig).name


class Child:
    def __init__(self, name: str, args: list[str], *, signal_group: bool,
                 pass_fds: tuple[int, ...] = ()):
        self.name = name
        self.signal_group = signal_group
        parent, prctl = os.getpid(), _prctl()

        def die_with_parent():  # runs in the child between fork and exec
            if prctl is not None:
                prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
                if os.getppid() != parent:  # died before prctl took effect
                    os.kill(os.getpid(), signal.SIGTERM)

        self.process = subprocess.Popen(  # noqa: S603 (our own interpreter and arguments)
            args, cwd=settings.BASE_DIR, stdin=subprocess.DEVNULL, process_group=0,
            pass_fds=pass_fds, preexec_fn=die_with_parent)
        self.returncode: int | None = None

    @property
    def pid(self) -> int:
        return self.process.pid

    def send(self, sig: int):
        if self.returncode is not None:
            return
        with suppress(ProcessLookupError):
            if self.signal_group:
                os.killpg(self.pid, sig)
            else:
                os.kill(self.pid, sig)

    def kill(self):
        if self.returncode is None:
            self._killpg(signal.SIGKILL)

    def _killpg(self, sig: int):
        with suppress(ProcessLookupError):
            os.killpg(self.pid, sig)

    def reap(self) -> bool:
        """True once the child has ended. What it left in its group (the pool processes
        of a killed worker) is killed first, while the unreaped leader still holds the
        group's id so it cannot name another group."""
        if self.returncode is not None:
            return True
        if os.waitid(os.P_PID, self.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is None:
            return False
        self._killpg(signal.SIGKILL)
        self.returncode = self.process.wait()
        return True

    def how_it_ended(self) -> str:
        if self.returncode is not None and self.returncode < 0:
            return f"killed by {_signal_name(-self.returncode)}"
        return f"exit status {self.returncode}"


def _lock_beat(path: Path) -> int:
    """The lock this process and beat hold for their lives (a file descriptor that beat
    inherits; the kernel releases it when both have ended); refused while held."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.read(fd, 32).decode(errors="replace").strip() or "?"
        os.close(fd)
        raise CommandError(
            f"Another `make run` is running on {path.parent} (process {holder}), and its "
            f"beat holds {path}. Stop it first: one beat at a time sends the periodic "
            "tasks.") from None
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())
    return fd


class Command(BaseCommand):
    help = ("Run the web server, a Celery worker and Celery beat together (make run); "
            "Ctrl-C or SIGTERM stops all three.")
    requires_system_checks = []  # the web server runs them

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", default="8000")

    def handle(self, *args, host, port, **options):
        received: list[int] = []
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            # A signal ignored on entry stays ignored (SIGINT in a background job).
            if signal.getsignal(sig) != signal.SIG_IGN:
                signal.signal(sig, lambda signum, frame: received.append(signum))
        settings.VAR_DIR.mkdir(parents=True, exist_ok=True)
        lock = _lock_beat(settings.VAR_DIR / "celerybeat.lock")
        celery = [sys.executable, "-m", "celery", "-A", "config"]
        children = [
            Child("The web server", [sys.executable, "manage.py", "runserver", f"{host}:{port}"],
                  signal_group=True),
            Child("The worker", [*celery, "worker", "--loglevel=INFO", "--concurrency=2"],
                  signal_group=False),
            Child("Beat", [*celery, "beat", "--loglevel=INFO"], signal_group=True,
                  pass_fds=(lock,)),
        ]
        first_signal, ended_alone = self._supervise(children, received)
        if ended_alone is not None:
            others = [child.name.lower() for child in children if child is not ended_alone]
            raise CommandError(f"{ended_alone.name} stopped ({ended_alone.how_it_ended()}), so "
                               f"{' and '.join(others)} were stopped too.")
        if first_signal is not None:
            # Ended by this signal, as the shell and make expect of a stopped command.
            signal.signal(first_signal, signal.SIG_DFL)
            os.kill(os.getpid(), first_signal)

    def _supervise(self, children: list[Child], received: list[int]):
        """Pass the signals on and wait for every child to end; -> (the first signal
        received, the child that ended on its own before any signal)."""
        first_signal, ended_alone, deadline = None, None, None
        while True:
            ended = [child.reap() for child in children]
            while received:
                sig = received.pop(0)
                first_signal = first_signal or sig
                for child in children:
                    child.send(signal.SIGTERM if sig == signal.SIGHUP else sig)
            if first_signal is None and ended_alone is None and any(ended):
                ended_alone = children[ended.index(True)]
                for child in children:
                    child.send(signal.SIGTERM)
            if all(ended):
                return first_signal, ended_alone
            if deadline is None and (first_signal or ended_alone):
                deadline = time.monotonic() + STOP_GRACE
            if deadline is not None and time.monotonic() > deadline:
                deadline = float("inf")  # kill once
                for child in children:
                    if child.returncode is None:
                        self.stderr.write(f"{child.name} did not stop within {STOP_GRACE} s; "
                                          "killed.")
                        child.kill()
            time.sleep(POLL_INTERVAL)
