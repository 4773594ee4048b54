"""Static checks of the single-host deployment (deploy/compose): services, replicas, health, ordering."""

from __future__ import annotations

import re

import pytest

from ._manifests import COMPOSE_DIR, SERVICE_NAMES, compose, registry_compose_services

pytestmark = pytest.mark.unit


def test_every_service_runs_replicated_with_a_readiness_healthcheck() -> None:
    services = compose()["services"]
    for name in SERVICE_NAMES:
        spec = services[name]
        assert spec["command"] == ["python", "-m", f"services.{name}"]
        assert spec["deploy"]["replicas"] >= 2
        assert "/readyz" in spec["healthcheck"]["test"], f"{name}: healthy should mean database and Kafka reachable"
        assert "ports" not in spec, f"{name}: replicas cannot share a host port; the gateway publishes it"
        assert spec["restart"] == "unless-stopped"
        assert {"cpus", "memory"} <= spec["deploy"]["resources"]["limits"].keys()


def test_services_start_after_postgres_and_the_topics_exist() -> None:
    services = compose()["services"]
    for name in SERVICE_NAMES:
        depends = services[name]["depends_on"]
        assert depends["postgres"]["condition"] == "service_healthy"
        assert depends["topics"]["condition"] == "service_completed_successfully"
    topics_depends = services["topics"]["depends_on"]
    assert {f"kafka-{n}" for n in (1, 2, 3)} == set(topics_depends)
    assert all(d["condition"] == "service_healthy" for d in topics_depends.values())


def test_env_files_are_referenced_and_shipped_only_as_templates() -> None:
    for name in SERVICE_NAMES:
        env_files = compose()["services"][name]["env_file"]
        assert f"env/{name}.env" in env_files
        for env_file in env_files:
            assert (COMPOSE_DIR / f"{env_file}.example").is_file(), f"{env_file}.example is the operator's template"
            assert not (COMPOSE_DIR / env_file).exists(), f"{env_file} holds secrets and must not be in the repository"
    assert (COMPOSE_DIR / "env/postgres.env.example").is_file()
    ignored = (COMPOSE_DIR / "env/.gitignore").read_text().split()
    assert "*" in ignored and "!*.example" in ignored


def test_kafka_brokers_form_one_three_node_kraft_quorum() -> None:
    services = compose()["services"]
    brokers = {name: spec for name, spec in services.items() if spec.get("image", "").startswith("apache/kafka:")}
    assert set(brokers) == {"kafka-1", "kafka-2", "kafka-3"}
    assert {spec["image"] for spec in brokers.values()} == {"apache/kafka:4.1.1"}
    node_ids = sorted(int(spec["environment"]["KAFKA_NODE_ID"]) for spec in brokers.values())
    assert node_ids == [1, 2, 3]
    cluster_ids = {spec["environment"]["CLUSTER_ID"] for spec in brokers.values()}
    assert len(cluster_ids) == 1, "every broker must be formatted with the same cluster id"
    for name, spec in brokers.items():
        env = spec["environment"]
        voters = env["KAFKA_CONTROLLER_QUORUM_VOTERS"].split(",")
        assert voters == [f"{n}@kafka-{n}:9093" for n in (1, 2, 3)]
        assert "broker" in env["KAFKA_PROCESS_ROLES"] and "controller" in env["KAFKA_PROCESS_ROLES"]
        assert env["KAFKA_ADVERTISED_LISTENERS"] == f"INTERNAL://{name}:9092"
        assert any(volume.endswith(":/var/lib/kafka/data") for volume in spec["volumes"]), f"{name} keeps no data"
        assert str(env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"]) == "false"
    bootstrap = {s["environment"]["KAFKA_BOOTSTRAP_SERVERS"] for s in registry_compose_services().values()}
    assert bootstrap == {"kafka-1:9092,kafka-2:9092,kafka-3:9092"}


def test_postgres_keeps_its_data_and_creates_one_role_per_service() -> None:
    postgres = compose()["services"]["postgres"]
    major = int(postgres["image"].split(":")[1].split(".")[0])
    assert major >= 16
    assert any(v.startswith("postgres-data:") for v in postgres["volumes"])
    assert "postgres-data" in compose()["volumes"]
    init = (COMPOSE_DIR / "postgres-init/10-registry-roles.sh").read_text()
    assert "for service in " + " ".join(SERVICE_NAMES) + "; do" in init
    for name in SERVICE_NAMES:
        url = compose()["services"][name]["environment"]["DATABASE_URL"]
        assert url == f"postgresql://{name}@postgres:5432/registry", "own role, no password in the URL"


def test_gateway_publishes_one_port_per_service_as_the_local_stack_does() -> None:
    gateway = compose()["services"]["gateway"]
    published = sorted(int(port.rsplit(":", 2)[-1]) for port in gateway["ports"])
    assert published == [8101, 8102, 8103, 8104]
    caddyfile = (COMPOSE_DIR / "Caddyfile").read_text()
    routes = dict(re.findall(r"^:(\d+) \{\n\s+import replicas (\w+)", caddyfile, flags=re.MULTILINE))
    assert routes == {"8101": "intake", "8102": "verification", "8103": "evaluations", "8104": "enforcement"}
    assert compose()["networks"]["backend"]["internal"] is True
    assert set(gateway["networks"]) == {"backend", "edge"}
