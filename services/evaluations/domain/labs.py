"""Accredited evaluation labs: what they cover, how much they can take, and whom they must never evaluate."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from datetime import date

from pydantic import Field, NonNegativeInt, field_validator, model_validator

from .errors import DescribedEnum, Frozen

# Legal-form words dropped when comparing organisation names: over-matching a conflict is the safe error.
_LEGAL_FORMS = frozenset(
    {"inc", "incorporated", "ltd", "limited", "llc", "llp", "plc", "corp", "corporation", "co", "company",
     "gmbh", "ag", "sa", "sas", "bv", "nv", "pte", "pty", "srl", "oy", "ab", "kk"}
)  # fmt: skip
_NON_ALNUM = re.compile(r"[\W_]+")  # any script's letters and digits survive


def normalise_organisation_name(name: str) -> str:
    """Readable canonical form of an organisation name: accents and case folded, punctuation and
    spacing collapsed, trailing legal forms dropped ('  ACME  A.I., Inc.' -> 'acme a i').
    """
    decomposed = unicodedata.normalize("NFKD", name)
    folded = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    words = _NON_ALNUM.sub(" ", folded).split()
    while len(words) > 1 and words[-1] in _LEGAL_FORMS:
        words.pop()
    return " ".join(words)


def organisation_key(name: str) -> str:
    """What conflict checks compare: the normalised name without spaces ('Deep Mind' == 'DeepMind')."""
    return normalise_organisation_name(name).replace(" ", "")


class LabExclusionReason(DescribedEnum):
    """Why a lab cannot take a request."""

    NOT_ACCREDITED = "not_accredited", "The lab holds no current accreditation."
    ACCREDITATION_EXPIRED = "accreditation_expired", "The lab's accreditation ended before today."
    AFFILIATED = "affiliated", "The lab declared an affiliation with the developer (conflict of interest)."
    AT_CAPACITY = "at_capacity", "The lab already has as many open requests as it can take."
    SUSPENDED = "suspended", "The agency suspended the lab's accreditation."


class Lab(Frozen):
    """An evaluation lab as the agency accredited it.

    `affiliations` are stored normalised (see normalise_organisation_name); conflict checks ignore case,
    spacing, punctuation, accents and legal forms. Capacity 0 means the lab takes no new requests for now.
    """

    lab_id: str = Field(pattern=r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
    name: str = Field(min_length=1)
    accredited: bool
    accredited_until: date | None = None
    domains: frozenset[str] = Field(min_length=1)
    capacity: NonNegativeInt
    affiliations: frozenset[str] = frozenset()
    suspended: bool = False
    suspension_reason: str | None = Field(default=None, max_length=2000)

    @field_validator("affiliations", mode="before")
    @classmethod
    def _normalise_affiliations(cls, value: object) -> object:
        if isinstance(value, str):
            raise ValueError("give a list of organisation names, not one string")
        if isinstance(value, Iterable):
            names = {normalise_organisation_name(str(v)) for v in value}
            if "" in names:
                raise ValueError("affiliation names must contain letters or digits")
            return frozenset(names)
        return value

    @model_validator(mode="after")
    def _accreditation_has_an_end(self) -> Lab:
        if self.accredited and self.accredited_until is None:
            raise ValueError("accredited_until is required when accredited is true (accreditation expires)")
        return self

    def suspend(self, reason: str) -> Lab:
        """This lab suspended: it takes no new requests until reinstated (open requests stay with it)."""
        return self.model_copy(update={"suspended": True, "suspension_reason": reason})

    def reinstate(self) -> Lab:
        """This lab with its suspension lifted."""
        return self.model_copy(update={"suspended": False, "suspension_reason": None})

    def is_accredited_on(self, day: date) -> bool:
        """Accredited and the accreditation has not ended before `day` (the end date itself counts)."""
        return self.accredited and self.accredited_until is not None and day <= self.accredited_until

    def affiliated_with(self, organisations: Iterable[str]) -> tuple[str, ...]:
        """The names among `organisations` this lab is affiliated with (compared by organisation_key)."""
        keys = {organisation_key(a) for a in self.affiliations}
        return tuple(o for o in organisations if organisation_key(o) in keys)
