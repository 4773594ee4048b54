"""Invariants across compose and Kubernetes: no literal secrets, only variables the services read, commands
that run real modules, durable Kafka topics, and an image built the way the manifests expect."""

from __future__ import annotations

import importlib.util
import re
import ssl
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from registry_contracts import ALL_TOPICS

from ._manifests import (
    COMPOSE_DIR,
    DOCKER_DIR,
    K8S_DIR,
    ROOT,
    SECRET_NAME,
    SERVICE_NAMES,
    applied_k8s_documents,
    compose,
    env_file_variables,
    k8s_documents,
    known_variables,
    of_kind,
    pod_specs,
    registry_compose_services,
    yaml_files,
)

pytestmark = pytest.mark.unit
PLACEHOLDER = re.compile(r"^(<[^<>]+>|)$")


def _registry_env_files() -> list[Path]:
    # postgres.env configures the postgres container, not a registry service
    return [p for p in sorted((COMPOSE_DIR / "env").glob("*.env.example")) if p.name != "postgres.env.example"]


def _k8s_env_entries() -> Iterator[tuple[str, dict[str, Any]]]:
    for workload, pod in pod_specs():
        for container in pod["containers"]:
            for entry in container.get("env", []):
                yield workload, entry


def _registry_configmap() -> dict[str, str]:
    return dict(of_kind("ConfigMap")["registry-config"]["data"])


def _load_script(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"deploy_docker_{name}", DOCKER_DIR / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_yaml_file_parses() -> None:
    files = yaml_files(COMPOSE_DIR) + yaml_files(K8S_DIR)
    assert len(files) >= 10
    assert len(k8s_documents()) >= 20 and compose()["services"]


def test_every_variable_in_the_manifests_is_one_a_service_reads() -> None:
    known = known_variables()
    assert {"DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS", "HTTP_PORT", "AUTH_JWKS_FILE"} <= known
    named: dict[str, set[str]] = {}
    for service, spec in registry_compose_services().items():
        named.setdefault(f"compose {service}", set()).update(spec.get("environment", {}))
    for path in _registry_env_files():
        named[f"compose {path.name}"] = set(env_file_variables(path))
    named["k8s ConfigMap registry-config"] = set(_registry_configmap())
    for workload, entry in _k8s_env_entries():
        named.setdefault(f"k8s {workload}", set()).add(entry["name"])
    for where, names in named.items():
        assert names - known == set(), f"{where} sets variables no service reads"


def test_no_literal_secret_in_any_manifest() -> None:
    for service, spec in registry_compose_services().items():
        for name, value in spec.get("environment", {}).items():
            if SECRET_NAME.search(name) and not name.endswith("_FILE"):
                pytest.fail(f"compose {service}: {name}={value!r} belongs in an env file, not compose.yaml")
            assert not re.search(r"://[^/@:]+:[^/@]+@", str(value)), f"compose {service}: {name} has a password"
    for workload, entry in _k8s_env_entries():
        if SECRET_NAME.search(entry["name"]) and not entry["name"].endswith(("_FILE", "_USERNAME")):
            assert "value" not in entry, f"{workload}: {entry['name']} must come from a Secret (valueFrom)"
            assert "secretKeyRef" in entry["valueFrom"], f"{workload}: {entry['name']} must come from a Secret"
        assert not re.search(r"://[^/@:]+:[^/@]+@", str(entry.get("value", ""))), f"{workload}: password in a URL"
    for name, value in _registry_configmap().items():
        assert not SECRET_NAME.search(name) or name.endswith("_FILE"), f"ConfigMap holds {name}={value!r}"
    assert of_kind("Secret") == {}, "Secrets are created by the operator (templates: secrets/*.example.yaml)"


def test_secret_templates_hold_placeholders_only() -> None:
    templates = [(p, d) for p, d in k8s_documents() if ".example." in p.name and d["kind"] == "Secret"]
    assert {d["metadata"]["name"] for _, d in templates} >= {"registry-intake-keys", "registry-db-intake"}
    for path, doc in templates:
        assert "data" not in doc, f"{path.name}: use stringData placeholders, never encoded values"
        for key, value in doc.get("stringData", {}).items():
            if key != "username":
                assert PLACEHOLDER.match(value), f"{path.name}: {doc['metadata']['name']}.{key} is not a placeholder"
    for path in sorted((COMPOSE_DIR / "env").glob("*.env.example")):
        for name, value in env_file_variables(path).items():
            if SECRET_NAME.search(name) and not name.endswith(("_FILE", "_USERNAME")):
                assert value == "", f"{path.name}: {name} must be left empty in the template"
    for path in [*yaml_files(COMPOSE_DIR), *yaml_files(K8S_DIR), *sorted((COMPOSE_DIR / "env").iterdir())]:
        assert "PRIVATE KEY-----" not in path.read_text(encoding="utf-8"), f"{path} contains a private key"


def test_every_command_runs_an_existing_module_or_shipped_script() -> None:
    dockerfile = (DOCKER_DIR / "Dockerfile").read_text()
    commands = [spec["command"] for spec in registry_compose_services().values()]
    commands += [c["command"] for _, pod in pod_specs() for c in pod["containers"]]
    assert len(commands) == 10, "four services and the topics job, in compose and Kubernetes"
    for command in commands:
        assert command[0] == "python"
        if command[1] == "-m":
            assert importlib.util.find_spec(f"{command[2]}.__main__") is not None, f"{command[2]} cannot run"
        else:
            script = command[1]
            assert (ROOT / script).is_file(), f"{script} does not exist"
            assert script in dockerfile, f"{script} is not copied into the image"
    modules = {c[2] for c in commands if c[1] == "-m"}
    assert modules == {f"services.{name}" for name in SERVICE_NAMES}


def test_kafka_topics_are_created_with_replication_3_and_min_isr_2() -> None:
    topic_jobs = [compose()["services"]["topics"]["command"], *[c["command"] for c in _topics_job_containers()]]
    assert len(topic_jobs) == 2
    for command in topic_jobs:
        arguments = dict(zip(command[2::2], command[3::2], strict=True))
        assert arguments == {"--replication-factor": "3", "--min-insync-replicas": "2"}
    (kafka,) = of_kind("Kafka").values()
    config = kafka["spec"]["kafka"]["config"]
    assert (config["default.replication.factor"], config["min.insync.replicas"]) == (3, 2)
    assert (config["offsets.topic.replication.factor"], config["transaction.state.log.min.isr"]) == (3, 2)
    assert sum(pool["spec"]["replicas"] for pool in of_kind("KafkaNodePool").values()) == 3
    for name, spec in compose()["services"].items():
        if name.startswith("kafka-"):
            env = spec["environment"]
            assert (env["KAFKA_DEFAULT_REPLICATION_FACTOR"], env["KAFKA_MIN_INSYNC_REPLICAS"]) == (3, 2)
            internal = (env["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"], env["KAFKA_TRANSACTION_STATE_LOG_MIN_ISR"])
            assert internal == (3, 2)


def _topics_job_containers() -> list[dict[str, Any]]:
    return list(of_kind("Job")["registry-topics"]["spec"]["template"]["spec"]["containers"])


def test_topic_script_specifies_every_contract_topic_durably() -> None:
    script = _load_script("registry_topics")
    specs = script.topic_specs(script.registry_topics(["lab-a"]), replication_factor=3, min_insync_replicas=2)
    names = [spec.name for spec in specs]
    assert names[: len(ALL_TOPICS)] == [topic.name for topic in ALL_TOPICS]
    assert names[len(ALL_TOPICS) :] == ["evaluations.requests.lab-a.v1", "labs.lab-a.results.v1"]
    for spec, topic in zip(specs, ALL_TOPICS, strict=False):
        assert (spec.partitions, spec.retention_ms) == (topic.partitions, topic.retention_ms)
    for spec in specs:
        assert spec.replication_factor == 3
        assert spec.topic_configs()["min.insync.replicas"] == "2"
        assert spec.topic_configs()["unclean.leader.election.enable"] == "false"
    with pytest.raises(ValueError, match="min-insync-replicas"):
        script.topic_specs(ALL_TOPICS, replication_factor=3, min_insync_replicas=4)


def test_topic_script_connects_like_the_services(monkeypatch: pytest.MonkeyPatch) -> None:
    script = _load_script("registry_topics")
    assert script.client_options({}) == {}
    sasl = script.client_options(
        {"KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "KAFKA_SASL_USERNAME": "registry-admin", "KAFKA_SASL_PASSWORD": "x"}
    )
    assert sasl["sasl_mechanism"] == "SCRAM-SHA-512" and sasl["sasl_plain_username"] == "registry-admin"
    assert isinstance(sasl["ssl_context"], ssl.SSLContext)
    with pytest.raises(ValueError, match="KAFKA_SECURITY_PROTOCOL"):
        script.client_options({"KAFKA_SECURITY_PROTOCOL": "SSL"})
    monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS", raising=False)
    assert script.main(["--replication-factor", "3"]) == 2, "no brokers named: a clear exit, not a hang"


def test_image_is_slim_unprivileged_and_probes_healthz() -> None:
    dockerfile = (DOCKER_DIR / "Dockerfile").read_text()
    assert re.search(r"^ARG PYTHON_IMAGE=python:3\.11-slim$", dockerfile, flags=re.MULTILINE)
    user = re.findall(r"^USER (\S+)$", dockerfile, flags=re.MULTILINE)
    assert user and user[-1].split(":")[0] not in {"0", "root"}, "the final stage runs as a non-root user"
    assert re.search(r"^HEALTHCHECK .*\n?.*healthcheck\.py\", \"/healthz\"", dockerfile, flags=re.MULTILINE)
    assert "./contracts" in dockerfile and "[test]" not in dockerfile
    http_port = re.search(r"HTTP_PORT=(\d+)", dockerfile)
    assert http_port and http_port.group(1) == _registry_configmap()["HTTP_PORT"] == "8080"
    probe = _load_script("healthcheck")
    assert probe.probe("/healthz", port="1", timeout=0.5) is False  # nothing listens: unhealthy, no exception


def test_build_context_ignore_list_keeps_what_the_dockerfile_copies() -> None:
    ignore = (DOCKER_DIR / "Dockerfile.dockerignore").read_text().splitlines()
    assert ignore[ignore.index("**")] == "**", "everything is ignored unless listed"
    kept = {line[1:].rstrip("/") for line in ignore if line.startswith("!")}
    dockerfile = (DOCKER_DIR / "Dockerfile").read_text()
    copied = [
        source.rstrip("/")
        for line in re.findall(r"^COPY (?!--from)(.+)$", dockerfile, flags=re.MULTILINE)
        for source in line.split()[:-1]
        if not source.startswith("--")
    ]
    assert copied, "the Dockerfile copies sources from the context"
    for source in copied:
        assert source in kept, f"{source} is copied but excluded by Dockerfile.dockerignore"
        assert (ROOT / source).exists()


def test_compose_and_kubernetes_run_the_same_image() -> None:
    compose_images = {spec["image"] for spec in registry_compose_services().values()}
    assert compose_images == {"${REGISTRY_IMAGE:-frontier-registry:0.1.0}"}
    k8s_images = {c["image"] for _, pod in pod_specs() for c in pod["containers"]}
    assert k8s_images == {"frontier-registry:0.1.0"}
    assert {doc["kind"] for doc in applied_k8s_documents()} >= {"Namespace", "ConfigMap", "Job", "NetworkPolicy"}
