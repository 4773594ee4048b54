"""The evaluation catalogue: domains, and the versioned suites a lab runs in each.

The catalogue is data (services/evaluations/catalogue-v1.toml), versioned like the rule profile: a new
suite or threshold is a new catalogue version, never an edit to code. Which domains a tier requires is
not here: that is the rule profile's `[evaluations]` table.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from datetime import date
from pathlib import Path

from pydantic import Field, FiniteFloat, PositiveInt, ValidationError, model_validator

from services.plumbing.rule_profile import RuleProfile

from .errors import CatalogueError, DescribedEnum, Frozen

DEFAULT_CATALOGUE_PATH = Path(__file__).resolve().parent.parent / "catalogue-v1.toml"

_SLUG = r"^[a-z0-9][a-z0-9_-]*$"


class LabInput(DescribedEnum):
    """What a lab needs from the developer to run a suite."""

    API_ACCESS = "api_access", "Black-box API access to the exact model version under evaluation."
    HELPFUL_ONLY_VARIANT = (
        "helpful_only_variant",
        "A variant without refusal training, to measure capability rather than refusals.",
    )
    FINE_TUNING_ACCESS = "fine_tuning_access", "Ability to fine-tune the model (safeguard-removal tests)."
    WEIGHTS_ACCESS = "weights_access", "Supervised access to the weights in the lab's secure enclave."
    AGENT_SCAFFOLD = "agent_scaffold", "The tool-use and agent scaffolding used in deployment."
    SANDBOX_ENVIRONMENT = "sandbox_environment", "An isolated network sandbox for agentic tasks."
    DEPLOYED_SAFEGUARDS = "deployed_safeguards", "The production safeguard stack (filters, classifiers)."
    MODEL_CARD = "model_card", "The developer's model card and its own evaluation results."
    HUMAN_STUDY_APPROVAL = "human_study_approval", "Ethics approval to run studies with human participants."


class RiskDirection(DescribedEnum):
    """Which way a suite's score points."""

    HIGHER_IS_RISKIER = "higher_is_riskier", "A higher score means more dangerous capability."
    LOWER_IS_RISKIER = "lower_is_riskier", "A lower score means weaker safeguards."


class EvaluationOutcome(DescribedEnum):
    """Outcome of a suite, a domain, or a whole model's evaluations."""

    PASS = "pass", "Below every concern threshold."
    CONCERN = "concern", "Reached a concern threshold but no fail threshold: mitigations expected."
    FAIL = "fail", "Reached a fail threshold: enforcement reviews whether the model may be used."

    @property
    def severity(self) -> int:
        """Rank for 'worst outcome wins' (pass 0, concern 1, fail 2)."""
        return _SEVERITY[self]


_SEVERITY = {EvaluationOutcome.PASS: 0, EvaluationOutcome.CONCERN: 1, EvaluationOutcome.FAIL: 2}


class EvaluationDomain(Frozen):
    """A risk area labs are accredited for (ids match the rule profile's [evaluations] lists)."""

    id: str = Field(pattern=_SLUG, max_length=64)
    name: str = Field(min_length=1)
    description: str = ""


class Suite(Frozen):
    """One versioned test suite in a domain, with the thresholds its score is judged against.

    Reaching a threshold counts: with higher_is_riskier a score >= fail_at fails, >= concern_at is a
    concern; with lower_is_riskier a score <= fail_at fails, <= concern_at is a concern.
    """

    id: str = Field(pattern=_SLUG, max_length=64)
    domain: str
    name: str = Field(min_length=1)
    version: str = Field(min_length=1, max_length=32)
    description: str = ""
    required_inputs: tuple[LabInput, ...] = Field(min_length=1)
    score_description: str = Field(min_length=1)
    score_min: FiniteFloat
    score_max: FiniteFloat
    risk_direction: RiskDirection
    concern_at: FiniteFloat
    fail_at: FiniteFloat

    @model_validator(mode="after")
    def _thresholds_are_ordered(self) -> Suite:
        if self.score_min >= self.score_max:
            raise ValueError(f"score_min ({self.score_min}) must be below score_max ({self.score_max})")
        for name in ("concern_at", "fail_at"):
            value = getattr(self, name)
            if not self.score_min <= value <= self.score_max:
                raise ValueError(f"{name} ({value}) must lie within [{self.score_min}, {self.score_max}]")
        if self.risk_direction is RiskDirection.HIGHER_IS_RISKIER and self.concern_at > self.fail_at:
            raise ValueError("higher_is_riskier needs concern_at <= fail_at")
        if self.risk_direction is RiskDirection.LOWER_IS_RISKIER and self.concern_at < self.fail_at:
            raise ValueError("lower_is_riskier needs concern_at >= fail_at")
        return self

    def score_in_range(self, score: float) -> bool:
        """Whether `score` lies on this suite's scale."""
        return self.score_min <= score <= self.score_max

    def classify(self, score: float) -> EvaluationOutcome:
        """Pass, concern or fail for one score on this suite's scale (reaching a threshold counts)."""
        if not self.score_in_range(score):
            raise CatalogueError(
                f"score[{self.id}]",
                f"{score} is outside the suite's scale [{self.score_min}, {self.score_max}]",
            )
        if self.risk_direction is RiskDirection.HIGHER_IS_RISKIER:
            fails, concerns = score >= self.fail_at, score >= self.concern_at
        else:
            fails, concerns = score <= self.fail_at, score <= self.concern_at
        if fails:
            return EvaluationOutcome.FAIL
        return EvaluationOutcome.CONCERN if concerns else EvaluationOutcome.PASS

    def threshold_text(self) -> str:
        """The thresholds as an officer reads them, e.g. 'concern at >= 0.5, fail at >= 0.7'."""
        sign = ">=" if self.risk_direction is RiskDirection.HIGHER_IS_RISKIER else "<="
        return f"concern at {sign} {self.concern_at}, fail at {sign} {self.fail_at}"


class EvaluationCatalogue(Frozen):
    """Every evaluation domain and suite, as one versioned document."""

    id: str = Field(min_length=1)
    version: PositiveInt
    effective_from: date
    description: str = ""
    domains: tuple[EvaluationDomain, ...] = Field(min_length=1)
    suites: tuple[Suite, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _references_are_consistent(self) -> EvaluationCatalogue:
        _require_unique("domains", [d.id for d in self.domains])
        _require_unique("suites", [s.id for s in self.suites])
        known = [d.id for d in self.domains]
        for suite in self.suites:
            if suite.domain not in known:
                raise ValueError(f"suite {suite.id!r} names unknown domain {suite.domain!r}; known: {known}")
        empty = [d for d in known if not any(s.domain == d for s in self.suites)]
        if empty:
            raise ValueError(f"domains without any suite: {empty}")
        return self

    @property
    def domain_ids(self) -> tuple[str, ...]:
        """Domain ids in catalogue order (the order plans list them in)."""
        return tuple(d.id for d in self.domains)

    def domain(self, domain_id: str) -> EvaluationDomain:
        """The domain with this id, or a CatalogueError naming the known ids."""
        for candidate in self.domains:
            if candidate.id == domain_id:
                return candidate
        raise CatalogueError("domain", f"unknown evaluation domain {domain_id!r}; known: {list(self.domain_ids)}")

    def suites_for(self, domain_id: str) -> tuple[Suite, ...]:
        """The suites a request in this domain runs, in catalogue order."""
        self.domain(domain_id)
        return tuple(s for s in self.suites if s.domain == domain_id)

    def ordered(self, domain_ids: Iterable[str], *, field: str) -> tuple[str, ...]:
        """Deduplicate and sort domain ids in catalogue order; unknown ids raise naming `field`."""
        wanted = set(domain_ids)
        unknown = sorted(wanted - set(self.domain_ids))
        if unknown:
            raise CatalogueError(field, f"unknown evaluation domain(s) {unknown}; known: {list(self.domain_ids)}")
        return tuple(d for d in self.domain_ids if d in wanted)

    def check_covers_profile(self, profile: RuleProfile) -> None:
        """Fail at start-up if the rule profile requires a domain this catalogue has no suites for."""
        rules = profile.evaluations
        for tier in type(rules).model_fields:
            self.ordered(rules.domains_for(tier), field=f"rule profile {profile.id} evaluations.{tier}")


def _require_unique(field: str, ids: list[str]) -> None:
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ValueError(f"duplicate {field} ids: {duplicates}")


def parse_catalogue(text: str, *, source: str = "<text>") -> EvaluationCatalogue:
    """Parse and validate catalogue TOML; any problem raises a CatalogueError naming the field."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogueError(source, f"not valid TOML: {exc}") from exc
    try:
        return EvaluationCatalogue.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'catalogue'}: {err['msg']}" for err in exc.errors()
        )
        raise CatalogueError(source, problems) from exc


def load_catalogue(path: Path | str = DEFAULT_CATALOGUE_PATH) -> EvaluationCatalogue:
    """Read and validate a catalogue file (the committed catalogue-v1.toml by default)."""
    file = Path(path)
    if not file.is_file():
        raise CatalogueError(str(file), "catalogue file not found")
    return parse_catalogue(file.read_text(encoding="utf-8"), source=str(file))
