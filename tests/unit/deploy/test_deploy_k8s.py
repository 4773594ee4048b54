"""Static checks of the Kubernetes manifests (deploy/k8s): probes, scaling, wiring between resources."""

from __future__ import annotations

from typing import Any

import pytest

from ._manifests import (
    IMAGE_NAME,
    K8S_DIR,
    SERVICE_NAMES,
    applied_k8s_documents,
    k8s_documents,
    load_documents,
    of_kind,
)

pytestmark = pytest.mark.unit


def _container(deployment: dict[str, Any]) -> dict[str, Any]:
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    return container


def _port_number(container: dict[str, Any], port: int | str) -> int:
    if isinstance(port, int):
        return port
    return next(p["containerPort"] for p in container["ports"] if p["name"] == port)


def test_every_manifest_names_its_kind_and_api_version() -> None:
    for path, doc in k8s_documents():
        assert {"apiVersion", "kind", "metadata"} <= doc.keys(), f"{path.name}: {doc}"
        assert doc["metadata"].get("name"), f"{path.name}: a {doc['kind']} without a name"


def test_kustomization_lists_existing_files_and_never_a_template() -> None:
    (kustomization,) = load_documents(K8S_DIR / "kustomization.yaml")
    assert kustomization["namespace"] == "frontier-registry"
    for entry in kustomization["resources"]:
        assert (K8S_DIR / entry).is_file(), f"kustomization.yaml lists {entry}, which does not exist"
        assert ".example." not in entry, f"{entry} is a template: the operator fills it in, kustomize must not apply it"
    assert [image["name"] for image in kustomization["images"]] == [IMAGE_NAME]


def test_every_service_has_a_deployment_service_pdb_and_hpa() -> None:
    for kind in ("Deployment", "Service", "PodDisruptionBudget", "HorizontalPodAutoscaler"):
        assert set(SERVICE_NAMES) <= set(of_kind(kind)), f"a service has no {kind}"


@pytest.mark.parametrize("service", SERVICE_NAMES)
def test_probes_hit_readyz_for_readiness_and_healthz_for_liveness(service: str) -> None:
    container = _container(of_kind("Deployment")[service])
    readiness, liveness = container["readinessProbe"]["httpGet"], container["livenessProbe"]["httpGet"]
    assert readiness["path"] == "/readyz"
    assert liveness["path"] == "/healthz"
    assert container.get("startupProbe", {}).get("httpGet", {}).get("path", "/healthz") == "/healthz"
    http_port = int(of_kind("ConfigMap")["registry-config"]["data"]["HTTP_PORT"])
    for probe in (readiness, liveness):
        assert _port_number(container, probe["port"]) == http_port, "probes must hit the port the service listens on"


@pytest.mark.parametrize("service", SERVICE_NAMES)
def test_deployments_scale_horizontally_and_survive_disruptions(service: str) -> None:
    deployment = of_kind("Deployment")[service]
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    selector = deployment["spec"]["selector"]["matchLabels"]
    assert selector.items() <= pod_labels.items()
    assert deployment["spec"]["replicas"] >= 2

    hpa = of_kind("HorizontalPodAutoscaler")[service]
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": service}
    assert hpa["spec"]["minReplicas"] >= 2 and hpa["spec"]["maxReplicas"] > hpa["spec"]["minReplicas"]
    assert [m["resource"]["name"] for m in hpa["spec"]["metrics"]] == ["cpu"]

    pdb = of_kind("PodDisruptionBudget")[service]
    assert pdb["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
    assert pdb["spec"]["minAvailable"] < hpa["spec"]["minReplicas"], "a PDB as large as the replicas blocks drains"

    service_spec = of_kind("Service")[service]["spec"]
    assert service_spec["selector"].items() <= pod_labels.items()
    container = _container(deployment)
    assert {_port_number(container, p["targetPort"]) for p in service_spec["ports"]} == {8080}


@pytest.mark.parametrize("service", SERVICE_NAMES)
def test_containers_are_bounded_and_unprivileged(service: str) -> None:
    deployment = of_kind("Deployment")[service]
    pod = deployment["spec"]["template"]["spec"]
    container = _container(deployment)
    assert {"cpu", "memory"} <= container["resources"]["requests"].keys()
    assert {"cpu", "memory"} <= container["resources"]["limits"].keys()
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] != 0
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert container["image"].split(":")[0] == IMAGE_NAME, "kustomize rewrites this name to the agency's registry"


def test_mounted_volumes_exist_and_referenced_objects_are_known() -> None:
    """Every ConfigMap/Secret a pod mounts or reads is applied, created by an operator, or has a template."""
    templates = {doc["metadata"]["name"] for path, doc in k8s_documents() if ".example." in path.name}
    applied = {doc["metadata"]["name"] for doc in applied_k8s_documents()}
    kafka_users = set(of_kind("KafkaUser"))
    created_by_operators = kafka_users | {"registry-cluster-ca-cert"}  # Strimzi's User and Cluster Operators
    known = templates | applied | created_by_operators
    for kind in ("Deployment", "Job"):
        for name, doc in of_kind(kind).items():
            pod = doc["spec"]["template"]["spec"]
            volumes = {v["name"]: v for v in pod.get("volumes", [])}
            for container in pod["containers"]:
                for mount in container.get("volumeMounts", []):
                    assert mount["name"] in volumes, f"{name} mounts {mount['name']}, which it does not declare"
                for env in container.get("env", []):
                    for ref in ("secretKeyRef", "configMapKeyRef"):
                        target = env.get("valueFrom", {}).get(ref, {}).get("name")
                        assert target is None or target in known, f"{name}: {env['name']} reads unknown {target}"
                for source in container.get("envFrom", []):
                    assert source["configMapRef"]["name"] in applied
            for volume in volumes.values():
                target = volume.get("secret", {}).get("secretName") or volume.get("configMap", {}).get("name")
                assert target is None or target in known, f"{name}: volume {volume['name']} uses unknown {target}"


def test_each_service_logs_in_to_kafka_as_its_own_user() -> None:
    kafka_users = of_kind("KafkaUser")
    for service in SERVICE_NAMES:
        env = {e["name"]: e for e in _container(of_kind("Deployment")[service])["env"]}
        user = env["KAFKA_SASL_USERNAME"]["value"]
        assert user == f"registry-{service}" and user in kafka_users
        assert env["KAFKA_SASL_PASSWORD"]["valueFrom"]["secretKeyRef"]["name"] == user
        acls = kafka_users[user]["spec"]["authorization"]["acls"]
        writes = [a["resource"] for a in acls if "Write" in a["operations"] and a["resource"]["type"] == "topic"]
        assert writes == [{"type": "topic", "name": f"{service}.", "patternType": "prefix"}], "writes own topics only"
        groups = [a["resource"]["name"] for a in acls if a["resource"]["type"] == "group"]
        assert groups == [service], "the consumer group is the service name (services/plumbing/service.py)"


def test_each_service_logs_in_to_postgres_as_its_own_role() -> None:
    (cluster,) = of_kind("Cluster").values()
    roles = {role["name"]: role for role in cluster["spec"]["managed"]["roles"]}
    for service in SERVICE_NAMES:
        env = {e["name"]: e for e in _container(of_kind("Deployment")[service])["env"]}
        assert env["DATABASE_URL"]["value"].startswith(f"postgresql://{service}@registry-db-rw:5432/registry")
        secret = env["PGPASSWORD"]["valueFrom"]["secretKeyRef"]["name"]
        assert roles[service]["passwordSecret"]["name"] == secret


def test_network_policies_select_the_pods_they_guard() -> None:
    service_pods = [of_kind("Deployment")[s]["spec"]["template"]["metadata"]["labels"] for s in SERVICE_NAMES]
    policies = of_kind("NetworkPolicy")
    assert policies, "at least the sketch of network policies is applied"
    default_deny = policies["registry-services-default-deny"]["spec"]
    assert "ingress" not in default_deny and default_deny["policyTypes"] == ["Ingress"]
    for labels in service_pods:
        assert default_deny["podSelector"]["matchLabels"].items() <= labels.items()
