"""The registry's four services as real subprocesses, the way an agency runs them (one process each)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from devstack._proc import DevstackError, process_alive, read_pid_file, tail, terminate
from services.plumbing.tokens import generate_keypair

SERVICE_NAMES = ("intake", "verification", "evaluations", "enforcement")
DEFAULT_PORTS = {"intake": 8101, "verification": 8102, "evaluations": 8103, "enforcement": 8104}
PROJECT_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class ServiceProcess:
    name: str
    pid: int
    url: str
    log_path: Path


def auth_dir(state_dir: Path) -> Path:
    """Where the local token issuer keeps its key pair (never committed: .state is ignored)."""
    return state_dir / "auth"


def intake_keys(state_dir: Path) -> dict[str, str]:
    """Intake's restricted-field key and standing-signing key for the local stack, made once (0600)."""
    from services.intake.keys import new_restricted_key

    directory = state_dir / "intake"
    directory.mkdir(parents=True, exist_ok=True)
    restricted = directory / "restricted.key"
    if not restricted.exists():
        descriptor = os.open(restricted, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as out:
            out.write(new_restricted_key())
    return {
        "INTAKE_RESTRICTED_KEY": restricted.read_text().strip(),
        "INTAKE_SIGNING_KEY_FILE": str(directory / "signing.pem"),
    }


def _pid_file(state_dir: Path, name: str) -> Path:
    return state_dir / "services" / f"{name}.pid"


def service_environment(
    name: str,
    *,
    state_dir: Path,
    database_url: str,
    bootstrap_servers: str,
    port: int,
    extra: Mapping[str, str],
) -> dict[str, str]:
    logs = state_dir / "logs"
    _, public_key = generate_keypair(auth_dir(state_dir))
    if name == "intake":
        extra = {**intake_keys(state_dir), **extra}
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap_servers,
        "HTTP_PORT": str(port),
        "LOG_FILE": str(logs / f"{name}.log"),
        "OTEL_TRACES_FILE": str(logs / "traces.jsonl"),
        "AUTH_PUBLIC_KEYS_FILE": str(public_key),
        "PYTHONPATH": os.pathsep.join([str(PROJECT_ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep),
        **extra,
    }


def start_service(
    name: str,
    *,
    state_dir: Path,
    database_url: str,
    bootstrap_servers: str,
    port: int | None = None,
    extra_env: Mapping[str, str] | None = None,
) -> ServiceProcess:
    """Start one service detached and record its pid; returns without waiting for readiness."""
    port = port or DEFAULT_PORTS[name]
    (state_dir / "logs").mkdir(parents=True, exist_ok=True)
    (state_dir / "services").mkdir(parents=True, exist_ok=True)
    pid_file = _pid_file(state_dir, name)
    running = read_pid_file(pid_file)
    if running is not None and process_alive(running, cmdline_contains=(f"services.{name}",)):
        return ServiceProcess(name, running, f"http://127.0.0.1:{port}", state_dir / "logs" / f"{name}.log")
    out = open(state_dir / "logs" / f"{name}.out", "ab")  # noqa: SIM115 - the child owns it from here
    env = service_environment(
        name,
        state_dir=state_dir,
        database_url=database_url,
        bootstrap_servers=bootstrap_servers,
        port=port,
        extra=extra_env or {},
    )
    process = subprocess.Popen(
        [sys.executable, "-m", f"services.{name}"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=out,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    out.close()
    pid_file.write_text(str(process.pid))
    return ServiceProcess(name, process.pid, f"http://127.0.0.1:{port}", state_dir / "logs" / f"{name}.log")


def wait_ready(services: Iterable[ServiceProcess], *, timeout: float = 60.0) -> None:
    """Poll each service's /readyz until it answers 200, or fail with the end of its log."""
    pending = list(services)
    deadline = time.monotonic() + timeout
    while pending:
        service = pending[0]
        if not process_alive(service.pid):
            out = service.log_path.with_suffix(".out")
            raise DevstackError(f"{service.name} exited during start-up:\n{tail(out)}")
        try:
            with urllib.request.urlopen(f"{service.url}/readyz", timeout=2) as response:
                if response.status == 200:
                    pending.pop(0)
                    continue
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise DevstackError(f"{service.name} not ready after {timeout:.0f}s:\n{tail(service.log_path)}")
        time.sleep(0.2)


def kill_service(state_dir: Path, name: str) -> int | None:
    """SIGKILL a service, as a crash would; returns the pid killed."""
    pid = read_pid_file(_pid_file(state_dir, name))
    if pid is None or not process_alive(pid):
        return None
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while process_alive(pid) and time.monotonic() < deadline:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)  # reap our own child so it stops counting as alive
        time.sleep(0.05)
    _pid_file(state_dir, name).unlink(missing_ok=True)
    return pid


def stop_services(state_dir: Path, names: Iterable[str] = SERVICE_NAMES, *, timeout: float = 15.0) -> None:
    for name in names:
        pid_file = _pid_file(state_dir, name)
        pid = read_pid_file(pid_file)
        if pid is not None:
            terminate(pid, timeout=timeout, cmdline_contains=(f"services.{name}",))
        pid_file.unlink(missing_ok=True)


def services_status(state_dir: Path) -> dict[str, object]:
    status: dict[str, object] = {}
    for name in SERVICE_NAMES:
        pid = read_pid_file(_pid_file(state_dir, name))
        alive = pid is not None and process_alive(pid, cmdline_contains=(f"services.{name}",))
        status[name] = {"pid": pid if alive else None, "running": alive}
    return status
