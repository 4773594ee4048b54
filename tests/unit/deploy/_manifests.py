"""Loading the production manifests (deploy/compose, deploy/k8s) and the facts the deploy tests check them against."""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml

import services
from services.plumbing.settings import ServiceSettings

ROOT = Path(__file__).resolve().parents[3]
DEPLOY = ROOT / "deploy"
COMPOSE_DIR = DEPLOY / "compose"
K8S_DIR = DEPLOY / "k8s"
DOCKER_DIR = DEPLOY / "docker"
SERVICE_NAMES = ("intake", "verification", "evaluations", "enforcement")
IMAGE_NAME = "frontier-registry"

# Read by libraries the services use, not by the settings classes: asyncpg reads PGPASSWORD when the
# DATABASE_URL has no password; OpenSSL (ssl.create_default_context) reads SSL_CERT_FILE for the Kafka CA.
LIBRARY_VARIABLES = frozenset({"PGPASSWORD", "SSL_CERT_FILE"})
SECRET_NAME = re.compile(r"PASSWORD|SECRET|TOKEN|(^|_)KEY($|_)|CREDENTIAL")
ENV_LINE = re.compile(r"^#?\s*([A-Z][A-Z0-9_]*)=(.*)$")


def yaml_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.rglob("*") if p.suffix in {".yaml", ".yml"} and p.is_file())


def load_documents(path: Path) -> list[dict[str, Any]]:
    """Every non-empty YAML document of `path`."""
    with path.open(encoding="utf-8") as handle:
        return [doc for doc in yaml.safe_load_all(handle) if doc is not None]


@cache
def compose() -> dict[str, Any]:
    (document,) = load_documents(COMPOSE_DIR / "compose.yaml")
    return document


def registry_compose_services() -> dict[str, dict[str, Any]]:
    """Compose services that run the registry image (the four services and the topics job)."""
    return {
        name: spec
        for name, spec in compose()["services"].items()
        if IMAGE_NAME in str(spec.get("image", "")) or "build" in spec
    }


@cache
def k8s_documents() -> tuple[tuple[Path, dict[str, Any]], ...]:
    """(file, document) for every Kubernetes manifest, templates (*.example.yaml) included."""
    found = []
    for path in yaml_files(K8S_DIR):
        if path.name == "kustomization.yaml":
            continue
        found += [(path, doc) for doc in load_documents(path)]
    return tuple(found)


def applied_k8s_documents() -> list[dict[str, Any]]:
    """The documents kustomization.yaml applies (templates excluded)."""
    (kustomization,) = load_documents(K8S_DIR / "kustomization.yaml")
    listed = {(K8S_DIR / entry).resolve() for entry in kustomization["resources"]}
    return [doc for path, doc in k8s_documents() if path.resolve() in listed]


def of_kind(kind: str, documents: list[dict[str, Any]] | None = None) -> dict[str, dict[str, Any]]:
    documents = applied_k8s_documents() if documents is None else documents
    return {doc["metadata"]["name"]: doc for doc in documents if doc.get("kind") == kind}


def pod_specs() -> Iterator[tuple[str, dict[str, Any]]]:
    """(workload name, pod spec) of every Deployment and Job applied."""
    for kind in ("Deployment", "Job"):
        for name, doc in of_kind(kind).items():
            yield name, doc["spec"]["template"]["spec"]


def env_file_variables(path: Path) -> dict[str, str]:
    """NAME -> value of an env file, commented-out assignments included (they are documented options)."""
    found = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        match = ENV_LINE.match(line.strip())
        if match:
            found[match.group(1)] = match.group(2).strip()
    return found


def _settings_modules() -> Iterator[ModuleType]:
    yield importlib.import_module("services.plumbing.settings")
    for module in pkgutil.iter_modules(services.__path__):
        if importlib.util.find_spec(f"services.{module.name}.settings") is not None:
            yield importlib.import_module(f"services.{module.name}.settings")


@cache
def known_variables() -> frozenset[str]:
    """Every environment variable a service reads: settings fields upper-cased, plus library variables."""
    names: set[str] = set()
    for module in _settings_modules():
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, ServiceSettings):
                names |= {field.upper() for field in value.model_fields}
    return frozenset(names | LIBRARY_VARIABLES)
