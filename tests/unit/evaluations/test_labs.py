from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from services.evaluations.domain import Lab, normalise_organisation_name, organisation_key

from .factories import lab

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("Acme AI", "acme ai"),
        ("  ACME   ai  ", "acme ai"),
        ("Acme AI, Inc.", "acme ai"),
        ("Acmé-AI Ltd", "acme ai"),
        ("ACME\tAI\nLLC", "acme ai"),
        ("Inc", "inc"),  # a name that is only a legal form keeps it
        ("深度求索 Inc.", "深度求索"),  # non-Latin names survive
        ("Straße GmbH", "strasse"),
    ],
)
def test_normalise_organisation_name(raw: str, normalised: str) -> None:
    assert normalise_organisation_name(raw) == normalised


def test_organisation_key_ignores_spacing_inside_names() -> None:
    assert organisation_key("Deep Mind") == organisation_key("DeepMind") == "deepmind"
    assert organisation_key("A.I. Labs") == organisation_key("AI Labs")


def test_affiliations_are_stored_normalised_and_deduplicated() -> None:
    built = lab("lab-a", affiliations=["Acme AI", " acme  AI ", "ACME AI Inc."])
    assert built.affiliations == frozenset({"acme ai"})


@pytest.mark.parametrize("developer", ["Acme AI", "acme ai", "  ACME AI ", "Acme-AI", "AcmeAI, Inc.", "ACMEAI"])
def test_affiliation_conflict_matches_case_and_whitespace_variants(developer: str) -> None:
    built = lab("lab-a", affiliations=["Acme AI"])
    assert built.affiliated_with([developer]) == (developer,)


def test_unrelated_developer_is_not_a_conflict() -> None:
    assert lab("lab-a", affiliations=["Acme AI"]).affiliated_with(["Acme Robotics", "Beta AI"]) == ()


def test_accreditation_end_date_counts_and_the_next_day_does_not() -> None:
    built = lab("lab-a", accredited_until=date(2026, 3, 10))
    assert built.is_accredited_on(date(2026, 3, 10))
    assert not built.is_accredited_on(date(2026, 3, 11))


def test_unaccredited_lab_is_never_accredited() -> None:
    assert not lab("lab-a", accredited=False, accredited_until=None).is_accredited_on(date(2020, 1, 1))


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"capacity": -1}, "capacity"),
        ({"domains": ()}, "domains"),
        ({"accredited_until": None}, "accredited_until"),
        ({"affiliations": "Acme AI"}, "affiliations"),
        ({"affiliations": ["..."]}, "affiliations"),
        ({"name": ""}, "name"),
    ],
)
def test_bad_lab_fields_name_the_field(override: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError, match=field):
        lab("lab-a", **override)


@pytest.mark.parametrize("lab_id", ["Lab A", "-lab", "lab-", "", "x" * 65])
def test_bad_lab_id_rejected(lab_id: str) -> None:
    with pytest.raises(ValidationError, match="lab_id"):
        lab(lab_id)


def test_lab_is_frozen() -> None:
    built = lab("lab-a")
    with pytest.raises(ValidationError):
        built.capacity = 99  # type: ignore[misc]
    assert isinstance(built, Lab)
