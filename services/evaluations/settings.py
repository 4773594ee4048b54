"""Evaluations's settings (environment variables; see docs/evaluations.md)."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field

from services.plumbing.settings import ServiceSettings


class EvaluationsSettings(ServiceSettings):
    service_name: ClassVar[str] = "evaluations"
    default_http_port: ClassVar[int] = 8103

    deadline_poll_seconds: float = Field(default=30.0, gt=0, description="How often overdue requests are sought.")
    planning_poll_seconds: float = Field(
        default=60.0,
        gt=0,
        description="How often due periodic re-evaluations are planned and domains waiting for a lab retried"
        " (also at once after a lab is accredited or reinstated, or a result frees one).",
    )
    lab_results_group: str = Field(default="evaluations-lab-results", description="Group reading lab result topics.")
    lab_topics_refresh_ms: int = Field(
        default=5000, ge=100, description="How soon a newly onboarded lab's result topic is subscribed."
    )
    lab_topic_replication_factor: int = Field(
        default=1, ge=1, description="Replicas of each lab topic (3 in production)."
    )
    lab_kafka_admin_username: str | None = Field(
        default=None, description="SASL principal that creates lab topics, users and ACLs (default: the service's)."
    )
    lab_kafka_admin_password: str | None = None
    lab_kafka_bootstrap_servers: str | None = Field(
        default=None, description="Bootstrap servers labs are told to use (default: KAFKA_BOOTSTRAP_SERVERS)."
    )

    @property
    def kafka_uses_sasl(self) -> bool:
        return self.kafka_security_protocol.upper().startswith("SASL")

    def kafka_client_options(self, *, admin: bool = False) -> dict[str, Any]:
        """aiokafka connection options with this service's (or the lab admin's) SASL/SCRAM credentials."""
        if not self.kafka_uses_sasl:
            return {}
        username = (self.lab_kafka_admin_username if admin else None) or self.kafka_sasl_username
        password = (self.lab_kafka_admin_password if admin else None) or self.kafka_sasl_password
        options: dict[str, Any] = {
            "security_protocol": self.kafka_security_protocol.upper(),
            "sasl_mechanism": "SCRAM-SHA-512",
            "sasl_plain_username": username or "",
            "sasl_plain_password": password or "",
        }
        if options["security_protocol"] == "SASL_SSL":
            from aiokafka.helpers import create_ssl_context

            options["ssl_context"] = create_ssl_context()
        return options
