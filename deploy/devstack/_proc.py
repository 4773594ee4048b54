"""Process, port and file-lock helpers shared by the native Kafka and PostgreSQL managers."""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import psutil

LOOPBACK = "127.0.0.1"


class DevstackError(RuntimeError):
    """A local infrastructure server could not be started, reused or stopped."""


class PortInUseError(DevstackError):
    """A port the stack needs is held by a process that is not ours."""


def reap_if_child(pid: int) -> None:
    """Collect the exit status of `pid` if it is our exited child, so it stops showing as a zombie."""
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def process_alive(pid: int, *, cmdline_contains: Sequence[str] = ()) -> bool:
    """True when `pid` runs (not a zombie) and its command line holds every marker given.

    The markers guard against a recycled pid that now belongs to an unrelated program.
    """
    reap_if_child(pid)
    try:
        proc = psutil.Process(pid)
        if proc.status() == psutil.STATUS_ZOMBIE:
            return False
        if cmdline_contains:
            cmdline = " ".join(proc.cmdline())
            return all(marker in cmdline for marker in cmdline_contains)
        return True
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return False


def port_answers(port: int, *, host: str = LOOPBACK, timeout: float = 0.5) -> bool:
    """True when a TCP connection to host:port succeeds."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def port_is_free(port: int, *, host: str = LOOPBACK) -> bool:
    """True when nothing listens on host:port (SO_REUSEADDR ignores our own TIME_WAIT leftovers)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def free_port(*, host: str = LOOPBACK) -> int:
    """A TCP port the kernel considers free right now (for tests that must not collide)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until(
    condition: Callable[[], bool],
    *,
    timeout: float,
    what: str,
    abort: Callable[[], str | None] | None = None,
    interval: float = 0.1,
) -> None:
    """Poll `condition` until true or the deadline passes.

    `abort` returns a reason string when waiting longer is pointless (the process died); that
    reason is raised at once instead of waiting out the deadline.
    """
    deadline = time.monotonic() + timeout
    while True:
        if condition():
            return
        if abort is not None:
            reason = abort()
            if reason is not None:
                raise DevstackError(f"{what}: {reason}")
        if time.monotonic() >= deadline:
            raise DevstackError(f"{what}: not ready after {timeout:.0f} s")
        time.sleep(interval)


def read_pid_file(path: Path) -> int | None:
    """The pid stored in `path`, or None when the file is missing or garbled."""
    try:
        return int(path.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive advisory lock on `path`, so two starters on one state dir run one at a time."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def tail(path: Path, *, lines: int = 30) -> str:
    """The last lines of a log file, for error messages; empty when the file does not exist."""
    try:
        content = path.read_text(errors="replace").splitlines()
    except FileNotFoundError:
        return ""
    return "\n".join(content[-lines:])


def stop_process(pid: int, *, timeout: float, cmdline_contains: Sequence[str] = ()) -> str:
    """SIGTERM `pid`, SIGKILL if it still runs after `timeout` seconds.

    Returns "absent" (nothing was running), "terminated" (exited on SIGTERM) or "killed".
    """
    if not process_alive(pid, cmdline_contains=cmdline_contains):
        return "absent"
    with contextlib.suppress(psutil.NoSuchProcess):
        psutil.Process(pid).terminate()
    try:
        wait_until(lambda: not process_alive(pid), timeout=timeout, what=f"stopping pid {pid}")
        return "terminated"
    except DevstackError:
        with contextlib.suppress(psutil.NoSuchProcess):
            psutil.Process(pid).kill()
        wait_until(lambda: not process_alive(pid), timeout=10, what=f"killing pid {pid}")
        return "killed"


def terminate(pid: int, *, timeout: float, cmdline_contains: Sequence[str] = ()) -> bool:
    """SIGTERM `pid`, then SIGKILL if it still runs after `timeout` seconds.

    Returns True when a process was signalled, False when it was already gone.
    """
    return stop_process(pid, timeout=timeout, cmdline_contains=cmdline_contains) != "absent"
