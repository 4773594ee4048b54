"""The record of a model as DOMAIN.md "The record" defines it, who may see each field, and the one redaction.

Every outward view (public lookup, registrant view, staff view) goes through `redact`; a field missing from
`FIELD_CLASSES` is treated as confidential, so a new field is never published by accident.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

MAX_TOKENS = 1e17  # tokens: ~100x the largest public training sets
MAX_ENERGY_KWH = 1e12  # kWh: a terawatt-hour per run is already absurd
MAX_REVENUE_USD = 1e14


class Confidentiality(StrEnum):
    PUBLIC = "public"
    CONFIDENTIAL = "confidential"
    RESTRICTED = "restricted"  # named staff only; encrypted at rest


class Audience(StrEnum):
    """Who a view is for; each sees fields up to a level of confidentiality."""

    PUBLIC = "public"  # anyone, no login
    REGISTRANT = "registrant"  # the organisation that filed (restricted fields stay withheld)
    STAFF = "staff"  # officers, analysts, admins
    RESTRICTED_READER = "restricted_reader"  # named staff cleared for restricted fields

    @property
    def clearance(self) -> tuple[Confidentiality, ...]:
        if self is Audience.PUBLIC:
            return (Confidentiality.PUBLIC,)
        if self is Audience.RESTRICTED_READER:
            return tuple(Confidentiality)
        return (Confidentiality.PUBLIC, Confidentiality.CONFIDENTIAL)


class AccessMode(StrEnum):
    API = "api"
    OPEN_WEIGHTS = "open_weights"
    PRODUCT = "product"


class ArchitectureClass(StrEnum):
    DENSE = "dense"
    MIXTURE_OF_EXPERTS = "mixture_of_experts"
    OTHER = "other"


class Modality(StrEnum):
    TEXT = "text"
    CODE = "code"
    IMAGE = "image"
    AUDIO = "audio"
    VIDEO = "video"
    BIOLOGICAL_SEQUENCE = "biological_sequence"
    OTHER = "other"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OrganisationDetails(_Strict):
    """Confidential facts about the developer."""

    affiliates: list[str] = Field(default_factory=list, max_length=200, description="Affiliated organisations.")
    annual_revenue_usd: float | None = Field(default=None, ge=0, le=MAX_REVENUE_USD, description="USD per year.")


class TrainingData(_Strict):
    token_count: float | None = Field(default=None, gt=0, le=MAX_TOKENS, description="Training tokens seen.")
    modalities: list[Modality] = Field(default_factory=list)
    sources_summary: str | None = Field(default=None, max_length=20_000, description="Confidential.")
    public_summary: str | None = Field(default=None, max_length=5_000, description="Published.")


class DeveloperEvaluations(_Strict):
    results: str | None = Field(default=None, max_length=50_000, description="Confidential: what was run, scores.")
    summary: str | None = Field(default=None, max_length=5_000, description="Published summary.")


class RecordFields(_Strict):
    """Descriptive fields of a record; every one optional, so an amendment can change just some."""

    contact: str | None = Field(default=None, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$", description="Email.")
    organisation_details: OrganisationDetails | None = None
    model_version: str | None = Field(default=None, max_length=100)
    intended_uses: list[str] = Field(default_factory=list, max_length=50)
    acceptable_use_policy: str | None = Field(default=None, max_length=20_000, description="Text or URL.")
    modalities: list[Modality] = Field(default_factory=list)
    context_window_tokens: int | None = Field(default=None, gt=0, le=1_000_000_000, description="Tokens.")
    licence: str | None = Field(default=None, max_length=200)
    release_date: date | None = None
    access_mode: AccessMode | None = None
    architecture_class: ArchitectureClass | None = None
    architecture_details: str | None = Field(default=None, max_length=20_000)
    training_data: TrainingData | None = None
    energy_kwh: float | None = Field(default=None, ge=0, le=MAX_ENERGY_KWH, description="Training energy, kWh.")
    evaluations: DeveloperEvaluations | None = None
    red_teaming: str | None = Field(default=None, max_length=50_000)
    security_of_weights: str | None = Field(default=None, max_length=50_000, description="Restricted.")


P, C, R = Confidentiality.PUBLIC, Confidentiality.CONFIDENTIAL, Confidentiality.RESTRICTED

# Dotted path -> level; the longest matching prefix decides. Record metadata is listed too.
FIELD_CLASSES: Mapping[str, Confidentiality] = {
    "registry_id": P,
    "version": P,
    "kind": P,
    "submitted_at": P,
    "late": P,
    "tier": P,
    "standing": P,
    "status": P,
    "developer": P,
    "contact": P,
    "organisation_details": C,
    "model_name": P,
    "model_version": P,
    "intended_uses": P,
    "acceptable_use_policy": P,
    "modalities": P,
    "context_window_tokens": P,
    "licence": P,
    "release_date": P,
    "access_mode": P,
    "architecture_class": P,
    "architecture_details": C,
    "compute": C,  # parameters, compute inputs (chips, hours, utilisation), training dates
    "training_data": C,
    "training_data.public_summary": P,
    "energy_kwh": C,
    "evaluations": C,
    "evaluations.summary": P,
    "red_teaming": C,
    "security_of_weights": R,
    "base_registry_id": P,
    "base_version": P,
    "lineage": P,
    "planned_deployment_date": C,
    "training_notice_id": P,
    "amendment": C,
    "amendment.kind": P,
    "modification_outcome": P,
    # incident reports: restricted but for the fact one was filed, when and whether on time
    "incident_id": P,
    "category": C,
    "imminent_risk": C,
    "discovered_at": C,
    "narrative": R,
    "actions_taken": R,
    "restricted_fields": C,  # names of the restricted fields on file (their values are sealed)
    # other filings: identity and timing are visible to whoever may see the filing; contents default to C
    "filing_id": P,
    "notice_id": P,
    "attestation_id": P,
    "report_id": P,
    "filed_at": P,
    "markets": P,
    "effective_date": P,
}
RESTRICTED_PATHS: tuple[str, ...] = tuple(path for path, level in FIELD_CLASSES.items() if level is R)


def classify(path: str) -> Confidentiality:
    """The level of a dotted field path; unknown fields are confidential."""
    parts = path.split(".")
    for length in range(len(parts), 0, -1):
        level = FIELD_CLASSES.get(".".join(parts[:length]))
        if level is not None:
            return level
    return C


def redact(record: Mapping[str, Any], audience: Audience) -> dict[str, Any]:
    """The record as `audience` may see it; withheld fields are named in `withheld_fields`."""
    withheld: list[str] = []
    visible = _redact(record, "", audience.clearance, withheld)
    visible["withheld_fields"] = sorted(withheld)
    return visible


def _redact(
    node: Mapping[str, Any], prefix: str, clearance: Iterable[Confidentiality], withheld: list[str]
) -> dict[str, Any]:
    allowed = tuple(clearance)
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "withheld_fields":
            continue
        path = f"{prefix}{key}"
        if classify(path) in allowed:
            out[key] = value
        elif isinstance(value, Mapping) and _has_visible_descendant(path, allowed):
            out[key] = _redact(value, f"{path}.", allowed, withheld)
        elif value is not None:
            withheld.append(path)
    return out


def _has_visible_descendant(path: str, allowed: tuple[Confidentiality, ...]) -> bool:
    return any(p.startswith(f"{path}.") and level in allowed for p, level in FIELD_CLASSES.items())


def split_restricted(record: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(record without restricted fields, the restricted fields): only the first is stored in clear."""
    clear = dict(record)
    restricted = {path: clear.pop(path) for path in RESTRICTED_PATHS if clear.get(path) is not None}
    if restricted:
        clear["restricted_fields"] = sorted(set(clear.get("restricted_fields", [])) | set(restricted))
    return clear, restricted
