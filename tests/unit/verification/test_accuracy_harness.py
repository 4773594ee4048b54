"""The accuracy harness over the committed Epoch extract meets the verification targets."""

from __future__ import annotations

import pytest

from bench.verification_accuracy import (
    TARGET_CAUGHT,
    TARGET_HONEST_FLAGGED,
    format_report,
    read_extract,
    run_accuracy,
    with_tolerance,
)
from services.plumbing.rule_profile import RuleProfile
from services.verification.domain import ChipCatalogue

pytestmark = pytest.mark.unit


def test_targets_met_on_committed_extract(profile: RuleProfile, catalogue: ChipCatalogue) -> None:
    models = read_extract()
    assert len(models) >= 150
    report = run_accuracy(models, profile, catalogue)
    overall = report.overall
    assert overall.evaluated >= 150
    assert report.invalid == []
    assert overall.share_honest_flagged() <= TARGET_HONEST_FLAGGED
    assert overall.share_caught(3.0) >= TARGET_CAUGHT[3.0]
    assert overall.share_caught(10.0) >= TARGET_CAUGHT[10.0]
    assert overall.meets_targets()
    # Near the registry's thresholds the figures are much better than the targets.
    large = report.by_compute_scale[">=1e23"]
    assert large.share_honest_flagged() <= 0.05 and large.share_caught(10.0) == 1.0
    assert "MET" in format_report(report)


def test_tolerance_trade_off_is_monotonic(profile: RuleProfile, catalogue: ChipCatalogue) -> None:
    models = read_extract()
    tight = run_accuracy(models, with_tolerance(profile, 1.5), catalogue).overall
    loose = run_accuracy(models, with_tolerance(profile, 5.0), catalogue).overall
    assert tight.share_honest_flagged() > loose.share_honest_flagged()
    assert tight.share_caught(3.0) > loose.share_caught(3.0)
    assert not loose.meets_targets()
