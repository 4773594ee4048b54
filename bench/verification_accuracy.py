"""How well compute verification separates honest filings from understated ones, on Epoch AI's data.

    .venv/bin/python bench/verification_accuracy.py [--extract data/epoch/notable_models_extract.csv]

For every usable model in the committed extract (known compute and architecture or hardware inputs;
see data/epoch/README.md) it files the model three times: honestly (declared = Epoch's compute),
understated 3x and understated 10x, and runs `verify_declared_compute` on each. Targets: at least 95%
of 10x and 80% of 3x understatements caught, at most 10% of honest filings flagged.

Data: Epoch AI, 'Parameter, Compute and Data Trends in Machine Learning', epoch.ai
(notable-ai-models), and Epoch AI's Machine Learning Hardware data; CC BY.
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from services.plumbing.rule_profile import RuleProfile, load_rule_profile  # noqa: E402
from services.verification.domain import (  # noqa: E402
    ChipCatalogue,
    ComputeDeclaration,
    VerificationInputError,
    VerificationStatus,
    load_chip_catalogue,
    verify_declared_compute,
)

DEFAULT_EXTRACT = ROOT / "data" / "epoch" / "notable_models_extract.csv"
UNDERSTATEMENTS = (3.0, 10.0)
TARGET_CAUGHT = {3.0: 0.80, 10.0: 0.95}
TARGET_HONEST_FLAGGED = 0.10
TOLERANCE_GRID = (1.5, 2.0, 2.5, 3.0, 4.0, 5.0)


@dataclass(frozen=True)
class HarnessModel:
    """One Epoch model as the harness files it: its inputs (no declared figure yet) and labels."""

    name: str
    domain_group: str
    compute_method: str
    compute_scale: str
    training_compute_flop: float
    inputs: dict[str, object]


def domain_group(domain: str) -> str:
    """Coarse domain for reporting: language (tokens), multimodal, or the single listed domain."""
    domains = {d.strip() for d in domain.split(",") if d.strip()}
    if domains and domains <= {"Language", "Mathematics"}:
        return "Language"
    if "Multimodal" in domains or "Language" in domains:
        return "Multimodal"
    return next(iter(domains)) if len(domains) == 1 else "Other"


def compute_scale(flop: float) -> str:
    """Scale band of Epoch's figure; the registry's thresholds start at 1e23 (biological sequences)."""
    if flop >= 1e23:
        return ">=1e23"
    return "1e20-1e23" if flop >= 1e20 else "<1e20"


def _float(text: str) -> float | None:
    return float(text) if text.strip() else None


def read_extract(path: Path = DEFAULT_EXTRACT) -> list[HarnessModel]:
    """The committed extract as harness models (inputs only where the extract's rules allow them)."""
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    models = []
    for row in rows:
        inputs: dict[str, object] = {}
        if row["architecture_inputs_usable"] == "true":
            inputs.update(
                parameters=_float(row["parameters"]),
                active_parameters=_float(row["active_parameters"]),
                is_mixture_of_experts=row["is_mixture_of_experts"] == "true",
                training_tokens=_float(row["dataset_size"]),
                epochs=_float(row["epochs"]),
            )
        if row["training_hardware"]:
            quantity = _float(row["hardware_quantity"])
            inputs.update(
                chip_type=row["training_hardware"],
                chip_count=round(quantity) if quantity else None,
                training_hours=_float(row["training_hours"]),
                declared_utilisation=_float(row["hardware_utilization"]),
                number_format=row["numerical_format"] or None,
            )
        models.append(
            HarnessModel(
                name=row["model"],
                domain_group=domain_group(row["domain"]),
                compute_method=row["compute_method"],
                compute_scale=compute_scale(float(row["training_compute_flop"])),
                training_compute_flop=float(row["training_compute_flop"]),
                inputs=inputs,
            )
        )
    return models


def with_tolerance(profile: RuleProfile, tolerance_factor: float) -> RuleProfile:
    """A copy of the profile with another disclosed-inputs tolerance (for the tuning table)."""
    rules = profile.verification.model_copy(update={"tolerance_factor": tolerance_factor})
    return profile.model_copy(update={"verification": rules})


@dataclass
class Tally:
    """Counts for one group of models."""

    evaluated: int = 0
    insufficient: int = 0
    honest_flagged: int = 0
    caught: dict[float, int] = field(default_factory=lambda: dict.fromkeys(UNDERSTATEMENTS, 0))

    def share_honest_flagged(self) -> float:
        return self.honest_flagged / self.evaluated if self.evaluated else 0.0

    def share_caught(self, factor: float) -> float:
        return self.caught[factor] / self.evaluated if self.evaluated else 0.0

    def meets_targets(self) -> bool:
        return (
            self.evaluated > 0
            and self.share_honest_flagged() <= TARGET_HONEST_FLAGGED
            and all(self.share_caught(f) >= TARGET_CAUGHT[f] for f in UNDERSTATEMENTS)
        )


@dataclass
class AccuracyReport:
    """Overall and per-group tallies, plus the models that were flagged when honest (for inspection)."""

    tolerance_factor: float
    overall: Tally
    by_domain: dict[str, Tally]
    by_compute_method: dict[str, Tally]
    by_compute_scale: dict[str, Tally]
    invalid: list[str]
    honest_flagged_models: list[str]
    missed_3x_models: list[str]


def run_accuracy(models: Iterable[HarnessModel], profile: RuleProfile, catalogue: ChipCatalogue) -> AccuracyReport:
    """File each model honestly and understated, and tally what verification concluded."""
    overall = Tally()
    by_domain: dict[str, Tally] = defaultdict(Tally)
    by_method: dict[str, Tally] = defaultdict(Tally)
    by_scale: dict[str, Tally] = defaultdict(Tally)
    invalid: list[str] = []
    flagged: list[str] = []
    missed: list[str] = []
    for model in models:
        tallies = (
            overall,
            by_domain[model.domain_group],
            by_method[model.compute_method],
            by_scale[model.compute_scale],
        )
        statuses: dict[float, VerificationStatus] = {}
        try:
            for factor in (1.0, *UNDERSTATEMENTS):
                declaration = ComputeDeclaration(
                    developer="epoch-harness",
                    model_name=model.name,
                    declared_training_flop=model.training_compute_flop / factor,
                    **model.inputs,  # type: ignore[arg-type]
                )
                statuses[factor] = verify_declared_compute(declaration, (), profile, catalogue).status
        except VerificationInputError as exc:
            invalid.append(f"{model.name}: {exc}")
            continue
        if statuses[1.0] is VerificationStatus.INSUFFICIENT_EVIDENCE:
            for tally in tallies:
                tally.insufficient += 1
            continue
        for tally in tallies:
            tally.evaluated += 1
            tally.honest_flagged += statuses[1.0] is VerificationStatus.DISCREPANCY
            for factor in UNDERSTATEMENTS:
                tally.caught[factor] += statuses[factor] is VerificationStatus.DISCREPANCY
        if statuses[1.0] is VerificationStatus.DISCREPANCY:
            flagged.append(model.name)
        if statuses[3.0] is not VerificationStatus.DISCREPANCY:
            missed.append(model.name)
    return AccuracyReport(
        tolerance_factor=profile.verification.tolerance_factor,
        overall=overall,
        by_domain=dict(sorted(by_domain.items())),
        by_compute_method=dict(sorted(by_method.items())),
        by_compute_scale=dict(sorted(by_scale.items())),
        invalid=invalid,
        honest_flagged_models=flagged,
        missed_3x_models=missed,
    )


def _row(label: str, tally: Tally) -> str:
    return (
        f"{label:<22} {tally.evaluated:>5} {tally.insufficient:>6} {tally.share_honest_flagged():>8.1%} "
        f"{tally.share_caught(3.0):>8.1%} {tally.share_caught(10.0):>8.1%}"
    )


def format_report(report: AccuracyReport) -> str:
    """The printed tables: by domain, by how Epoch obtained its figure, and overall with targets."""
    header = f"{'group':<22} {'n':>5} {'no-est':>6} {'honest!':>8} {'3x caught':>8} {'10x caught':>8}"
    lines = [f"tolerance factor (disclosed inputs): {report.tolerance_factor:g}", "", "by domain", header]
    lines += [_row(name, tally) for name, tally in report.by_domain.items()]
    lines += ["", "by how Epoch obtained its compute figure (bias check)", header]
    lines += [_row(name, tally) for name, tally in report.by_compute_method.items()]
    lines += ["", "by scale of Epoch's compute figure", header]
    lines += [_row(name, tally) for name, tally in report.by_compute_scale.items()]
    lines += ["", header, _row("OVERALL", report.overall)]
    o = report.overall
    lines.append(
        f"targets: honest flagged {o.share_honest_flagged():.1%} <= {TARGET_HONEST_FLAGGED:.0%}, "
        f"3x caught {o.share_caught(3.0):.1%} >= {TARGET_CAUGHT[3.0]:.0%}, "
        f"10x caught {o.share_caught(10.0):.1%} >= {TARGET_CAUGHT[10.0]:.0%}: "
        f"{'MET' if o.meets_targets() else 'NOT MET'}"
    )
    if report.invalid:
        lines.append(f"rows refused by validation: {len(report.invalid)}: " + "; ".join(report.invalid))
    lines.append(f"honest filings flagged: {', '.join(report.honest_flagged_models) or 'none'}")
    return "\n".join(lines)


def tolerance_table(
    models: Sequence[HarnessModel], profile: RuleProfile, catalogue: ChipCatalogue
) -> list[tuple[float, Tally]]:
    """Overall tallies for each tolerance factor in the grid (the tuning table)."""
    return [(t, run_accuracy(models, with_tolerance(profile, t), catalogue).overall) for t in TOLERANCE_GRID]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--extract", type=Path, default=DEFAULT_EXTRACT)
    parser.add_argument("--profile", default="baseline-2026-01")
    args = parser.parse_args(argv)
    profile = load_rule_profile(args.profile)
    catalogue = load_chip_catalogue()
    models = read_extract(args.extract)
    report = run_accuracy(models, profile, catalogue)
    print(f"{len(models)} usable models from {args.extract}; profile {profile.id}; catalogue {catalogue.version}")
    print(format_report(report))
    print("\ntolerance tuning (overall)")
    print(f"{'tolerance':>9} {'n':>5} {'honest!':>8} {'3x caught':>9} {'10x caught':>10} targets")
    for tolerance, tally in tolerance_table(models, profile, catalogue):
        print(
            f"{tolerance:>9g} {tally.evaluated:>5} {tally.share_honest_flagged():>8.1%} "
            f"{tally.share_caught(3.0):>9.1%} {tally.share_caught(10.0):>10.1%} "
            f"{'met' if tally.meets_targets() else '-'}"
        )
    return 0 if report.overall.meets_targets() else 1


if __name__ == "__main__":
    raise SystemExit(main())
