"""Verification domain: estimating training compute and judging declarations against the rule profile.

Pure code (no I/O) except `load_chip_catalogue`, which reads the committed catalogue once at start-up.
"""

from services.verification.domain.attestations import (
    AttestationMatch,
    estimate_from_attestations,
    match_attestation,
    match_attestations,
)
from services.verification.domain.catalogue_loader import DEFAULT_CATALOGUE_PATH, load_chip_catalogue
from services.verification.domain.chips import (
    DEFAULT_NUMBER_FORMAT,
    ChipCatalogue,
    ChipSpec,
    NumberFormat,
    normalise_chip_name,
    parse_chip_catalogue,
    parse_number_format,
)
from services.verification.domain.declaration import ComputeAttestation, ComputeDeclaration
from services.verification.domain.designation import (
    DesignationDecision,
    DesignationEffect,
    designation_effect,
    designation_note,
)
from services.verification.domain.errors import UnknownNumberFormatError, VerificationInputError
from services.verification.domain.estimate import ComputeEstimate, EstimateMethod, format_factor, format_flop
from services.verification.domain.estimators import estimate_from_architecture, estimate_from_hardware
from services.verification.domain.history import PriorCompute, estimate_from_record, planned_compute_note
from services.verification.domain.outcome import (
    EstimateComparison,
    VerificationOutcome,
    VerificationStatus,
    verify_declared_compute,
)
from services.verification.domain.tiers import (
    ModificationDecision,
    ModificationKind,
    Tier,
    TierDecision,
    classify_modification,
    classify_tier,
    classify_tier_from_figures,
    cumulative_training_flop,
    reportable_threshold,
)

__all__ = [
    "DEFAULT_CATALOGUE_PATH",
    "DEFAULT_NUMBER_FORMAT",
    "AttestationMatch",
    "ChipCatalogue",
    "ChipSpec",
    "ComputeAttestation",
    "ComputeDeclaration",
    "ComputeEstimate",
    "DesignationDecision",
    "DesignationEffect",
    "EstimateComparison",
    "EstimateMethod",
    "ModificationDecision",
    "ModificationKind",
    "NumberFormat",
    "PriorCompute",
    "Tier",
    "TierDecision",
    "UnknownNumberFormatError",
    "VerificationInputError",
    "VerificationOutcome",
    "VerificationStatus",
    "classify_modification",
    "classify_tier",
    "classify_tier_from_figures",
    "cumulative_training_flop",
    "designation_effect",
    "designation_note",
    "estimate_from_architecture",
    "estimate_from_attestations",
    "estimate_from_hardware",
    "estimate_from_record",
    "format_factor",
    "format_flop",
    "load_chip_catalogue",
    "match_attestation",
    "match_attestations",
    "normalise_chip_name",
    "parse_chip_catalogue",
    "parse_number_format",
    "planned_compute_note",
    "reportable_threshold",
    "verify_declared_compute",
]
