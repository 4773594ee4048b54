"""A single-node Apache Kafka 4.x broker (KRaft, combined broker+controller) run from Maven jars.

Layout under the state dir:
    kafka/libs/          broker jars (or $KAFKA_LIBS_DIR, a cache shared between state dirs)
    kafka/server.properties, kafka/log4j2.properties, kafka/broker.json
    kafka/data/          log.dirs (meta.properties marks a formatted dir)
    kafka.pid            pid of the running broker
    logs/kafka.log       broker log (log4j2 file appender); logs/kafka.out holds JVM stdout/stderr
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shlex
import shutil
import subprocess
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from devstack._class_archive import adopt_pending_archive, archive_options
from devstack._proc import (
    LOOPBACK,
    DevstackError,
    PortInUseError,
    file_lock,
    port_answers,
    port_is_free,
    process_alive,
    read_pid_file,
    stop_process,
    tail,
    terminate,
    wait_until,
)
from devstack.kafka_config import PropertyValue, log4j2_properties, render_properties, server_properties

KAFKA_POM = Path(__file__).resolve().parents[1] / "local" / "kafka" / "pom.xml"
LIBS_ENV_VAR = "KAFKA_LIBS_DIR"
# extra JVM flags, e.g. "-XX:TieredStopAtLevel=1": with the class archive the broker then starts in
# ~1.5-2 s instead of ~3 s, at the price of lower peak throughput (so not the default: bench/ uses it)
JVM_OPTS_ENV_VAR = "KAFKA_EXTRA_JVM_OPTS"
RESOLVED_MARKER = ".resolved.json"
READY_LOG_LINE = "Kafka Server started"
BROKER_MAIN_CLASS = "kafka.Kafka"
STORAGE_TOOL_CLASS = "kafka.tools.StorageTool"
JVM_HEAP = ("-Xms256m", "-Xmx512m")


@dataclass(frozen=True)
class KafkaHandle:
    """A running broker: where clients connect, its pid and its log file."""

    bootstrap_servers: str
    pid: int
    log_path: Path


@dataclass(frozen=True)
class _KafkaPaths:
    """Every file the broker manager reads or writes for one state dir."""

    state_dir: Path

    @property
    def root(self) -> Path:
        return self.state_dir / "kafka"

    @property
    def config(self) -> Path:
        return self.root / "server.properties"

    @property
    def log4j_config(self) -> Path:
        return self.root / "log4j2.properties"

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def broker_state(self) -> Path:
        return self.root / "broker.json"

    @property
    def lock(self) -> Path:
        return self.root / ".lock"

    @property
    def pending_class_archive(self) -> Path:
        return self.root / "classes-pending.jsa"

    @property
    def pid_file(self) -> Path:
        return self.state_dir / "kafka.pid"

    @property
    def logs(self) -> Path:
        return self.state_dir / "logs"

    @property
    def log(self) -> Path:
        return self.logs / "kafka.log"

    @property
    def out(self) -> Path:
        return self.logs / "kafka.out"


def kafka_libs_dir(state_dir: Path) -> Path:
    """Where the broker jars live: $KAFKA_LIBS_DIR when set, else <state_dir>/kafka/libs."""
    override = os.environ.get(LIBS_ENV_VAR)
    return Path(override).resolve() if override else state_dir.resolve() / "kafka" / "libs"


def _pom_digest() -> str:
    return hashlib.sha256(KAFKA_POM.read_bytes()).hexdigest()


def _jars_complete(libs: Path) -> bool:
    """True when the marker written after a successful resolve matches the pom and every jar exists."""
    try:
        marker = json.loads((libs / RESOLVED_MARKER).read_text())
    except (FileNotFoundError, ValueError):
        return False
    jars: list[str] = marker.get("jars", [])
    return marker.get("pom_sha256") == _pom_digest() and bool(jars) and all((libs / j).is_file() for j in jars)


def ensure_kafka_jars(state_dir: Path) -> Path:
    """Resolve the broker jars with Maven unless a complete copy is already there; return the libs dir.

    A marker file (pom digest + jar list) is written only after Maven succeeds, so an interrupted
    download is redone and a finished one is never downloaded again.
    """
    libs = kafka_libs_dir(state_dir)
    if _jars_complete(libs):
        return libs
    mvn = shutil.which("mvn")
    if mvn is None:
        raise DevstackError("Maven (mvn) is not on PATH; it is needed once to fetch the Kafka jars")
    with file_lock(libs.parent / f".{libs.name}.lock"):
        if _jars_complete(libs):  # another process finished while we waited for the lock
            return libs
        libs.mkdir(parents=True, exist_ok=True)
        for stale in libs.glob("*.jar"):
            stale.unlink()
        command = [
            mvn, "-q", "-B", "-f", str(KAFKA_POM), "dependency:copy-dependencies",
            f"-DoutputDirectory={libs}", "-DincludeScope=runtime",
        ]  # fmt: skip
        result = subprocess.run(command, capture_output=True, text=True, check=False, stdin=subprocess.DEVNULL)
        if result.returncode != 0:
            raise DevstackError(f"resolving Kafka jars failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
        jars = sorted(p.name for p in libs.glob("*.jar"))
        marker = {"pom_sha256": _pom_digest(), "jars": jars}
        (libs / RESOLVED_MARKER).write_text(json.dumps(marker, indent=1))
    return libs


def _java() -> str:
    java_home = os.environ.get("JAVA_HOME")
    java = str(Path(java_home) / "bin" / "java") if java_home else shutil.which("java")
    if not java or not Path(java).exists():
        raise DevstackError("no java found (set JAVA_HOME or put java 17+ on PATH)")
    return java


def _random_cluster_id() -> str:
    """A Kafka cluster id: 16 random bytes, URL-safe base64 without padding (as Uuid.randomUuid)."""
    while True:
        text = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not text.startswith("-"):  # Kafka avoids ids a command line would take for an option
            return text


def _format_storage(paths: _KafkaPaths, libs: Path, props: Mapping[str, str], format_extra_args: Sequence[str]) -> None:
    """Format log.dirs once; a formatted dir (meta.properties present) is left alone."""
    if (paths.data / "meta.properties").exists():
        return
    paths.data.mkdir(parents=True, exist_ok=True)
    # --standalone sets up a dynamic quorum; a static controller.quorum.voters list must not use it
    standalone = [] if "controller.quorum.voters" in props else ["--standalone"]
    command = [
        _java(), f"-Dlog4j2.configurationFile={paths.log4j_config}", "-cp", f"{libs}/*",
        STORAGE_TOOL_CLASS, "format", *standalone, "-t", _random_cluster_id(), "-c", str(paths.config),
        *format_extra_args,
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, check=False, stdin=subprocess.DEVNULL)
    if result.returncode != 0:
        raise DevstackError(f"formatting Kafka storage failed:\n{result.stdout}\n{result.stderr}")


def _broker_markers(paths: _KafkaPaths) -> tuple[str, ...]:
    """Command-line fragments proving a pid is this state dir's broker, not a recycled pid."""
    return (BROKER_MAIN_CLASS, str(paths.config))


def _running_pid(paths: _KafkaPaths) -> int | None:
    pid = read_pid_file(paths.pid_file)
    if pid is not None and process_alive(pid, cmdline_contains=_broker_markers(paths)):
        return pid
    return None


def _recorded_port(paths: _KafkaPaths) -> int | None:
    try:
        port: int = json.loads(paths.broker_state.read_text())["port"]
        return port
    except (FileNotFoundError, ValueError, KeyError):
        return None


def _log_has_ready_line(log: Path, offset: int) -> bool:
    try:
        with log.open("rb") as handle:
            handle.seek(offset)
            return READY_LOG_LINE.encode() in handle.read()
    except FileNotFoundError:
        return False


def start_kafka(
    state_dir: Path,
    *,
    port: int = 19092,
    controller_port: int = 19093,
    extra_properties: Mapping[str, PropertyValue] | None = None,
    format_extra_args: Sequence[str] = (),
    timeout: float = 60.0,
) -> KafkaHandle:
    """Start (or reuse) the state dir's broker and wait until it serves clients.

    A broker from an earlier run that is still alive and answering on `port` is reused as it is
    (with the settings it was started with; stop it to apply new `extra_properties`).
    `format_extra_args` go to the one-time `StorageTool format` (e.g. `--add-scram ...`).
    Raises PortInUseError when another program holds a port, DevstackError on start failure.
    """
    paths = _KafkaPaths(state_dir.resolve())
    bootstrap = f"{LOOPBACK}:{port}"
    with file_lock(paths.lock):
        pid = _running_pid(paths)
        if pid is not None:
            running_port = _recorded_port(paths)
            if running_port != port:
                raise DevstackError(
                    f"the broker of {paths.state_dir} already runs (pid {pid}) on port {running_port}, "
                    f"not {port}; stop it first"
                )
            wait_until(lambda: port_answers(port), timeout=timeout, what=f"Kafka pid {pid} on {bootstrap}")
            return KafkaHandle(bootstrap_servers=bootstrap, pid=pid, log_path=paths.log)

        for needed in (port, controller_port):
            if not port_is_free(needed):
                raise PortInUseError(
                    f"port {needed} on {LOOPBACK} is taken by another program; "
                    "pick other Kafka ports or stop that program"
                )
        libs = ensure_kafka_jars(paths.state_dir)
        paths.root.mkdir(parents=True, exist_ok=True)
        paths.logs.mkdir(parents=True, exist_ok=True)
        props = server_properties(
            data_dir=paths.data, port=port, controller_port=controller_port, extra_properties=extra_properties
        )
        paths.config.write_text(render_properties(props))
        paths.log4j_config.write_text(log4j2_properties(paths.log))
        _format_storage(paths, libs, props, format_extra_args)

        log_offset = paths.log.stat().st_size if paths.log.exists() else 0
        java = _java()
        jvm_options = [
            *archive_options(libs, java, paths.pending_class_archive),
            *shlex.split(os.environ.get(JVM_OPTS_ENV_VAR, "")),
        ]
        command = [
            java, *JVM_HEAP, "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20", "-Djava.awt.headless=true",
            *jvm_options,
            f"-Dkafka.logs.dir={paths.logs}", f"-Dlog4j2.configurationFile={paths.log4j_config}",
            "-cp", f"{libs}/*", BROKER_MAIN_CLASS, str(paths.config),
        ]  # fmt: skip
        with paths.out.open("ab") as out:
            process = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                cwd=paths.root, start_new_session=True,
            )  # fmt: skip
        _CHILDREN[process.pid] = process
        paths.pid_file.write_text(f"{process.pid}\n")
        paths.broker_state.write_text(
            json.dumps({"pid": process.pid, "port": port, "controller_port": controller_port})
        )

        def exited() -> str | None:
            if process.poll() is None:
                return None
            return f"broker exited with code {process.returncode}:\n{tail(paths.out)}\n{tail(paths.log)}"

        try:
            wait_until(
                lambda: _log_has_ready_line(paths.log, log_offset) and port_answers(port),
                timeout=timeout,
                what=f"Kafka on {bootstrap}",
                abort=exited,
            )
        except DevstackError:
            terminate(process.pid, timeout=10)
            paths.pid_file.unlink(missing_ok=True)
            raise
        return KafkaHandle(bootstrap_servers=bootstrap, pid=process.pid, log_path=paths.log)


# Brokers started by this interpreter, kept so their exit status is collected (no zombies).
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}


def stop_kafka(state_dir: Path, timeout: float = 30) -> bool:
    """Stop the state dir's broker: SIGTERM (controlled shutdown), SIGKILL after `timeout` seconds.

    Returns True when a running broker was stopped, False when none was running.
    """
    paths = _KafkaPaths(state_dir.resolve())
    with file_lock(paths.lock):
        pid = _running_pid(paths)
        if pid is None:
            paths.pid_file.unlink(missing_ok=True)
            return False
        outcome = stop_process(pid, timeout=timeout, cmdline_contains=_broker_markers(paths))
        child = _CHILDREN.pop(pid, None)
        if child is not None:
            child.wait(timeout=5)
        paths.pid_file.unlink(missing_ok=True)
        # a broker that needed SIGKILL may have left a half-written archive: never publish that one
        if outcome == "terminated":
            adopt_pending_archive(kafka_libs_dir(paths.state_dir), _java(), paths.pending_class_archive)
        paths.pending_class_archive.unlink(missing_ok=True)
        return True


def kafka_status(state_dir: Path) -> dict[str, object]:
    """What is known about the state dir's broker: running, pid, bootstrap, paths."""
    paths = _KafkaPaths(state_dir.resolve())
    pid = _running_pid(paths)
    port = _recorded_port(paths)
    return {
        "running": pid is not None,
        "pid": pid,
        "bootstrap_servers": f"{LOOPBACK}:{port}" if port is not None else None,
        "answers": port is not None and pid is not None and port_answers(port),
        "formatted": (paths.data / "meta.properties").exists(),
        "libs_dir": str(kafka_libs_dir(paths.state_dir)),
        "jars_complete": _jars_complete(kafka_libs_dir(paths.state_dir)),
        "log": str(paths.log),
        "config": str(paths.config),
    }
