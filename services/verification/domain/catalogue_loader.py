"""Load the committed chip catalogue (the one file read of the verification domain, done at start-up)."""

from __future__ import annotations

import json
import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Any

from services.verification.domain.chips import ChipCatalogue, parse_chip_catalogue
from services.verification.domain.errors import VerificationInputError

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
DEFAULT_CATALOGUE_PATH = DATA_DIR / "chips-v1.json"


def _read_mapping(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise VerificationInputError("chip_catalogue_extra", f"file {path} does not exist")
    text = path.read_text(encoding="utf-8")
    try:
        data = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        raise VerificationInputError("chip_catalogue_extra", f"{path} is not valid: {exc}") from exc
    if not isinstance(data, dict):
        raise VerificationInputError("chip_catalogue_extra", f"{path} must hold an object with 'chips'")
    return data


@lru_cache(maxsize=4)
def load_chip_catalogue(extra: Path | str | None = None, *, base: Path | str | None = None) -> ChipCatalogue:
    """The committed catalogue (chips-v1.json), merged with an optional JSON/TOML file of extra chips.

    The extra file has the same shape: {"chips": [{"name": ..., "peak_flops": {"bf16_fp16_tensor": ...}}],
    "aliases": {"my chip": "catalogue name"}}. Extra chips replace same-named ones.
    """
    base_path = Path(base) if base else DEFAULT_CATALOGUE_PATH
    data = json.loads(base_path.read_text(encoding="utf-8"))
    if extra is None:
        return parse_chip_catalogue(data)
    extra_path = Path(extra)
    return parse_chip_catalogue(data, extra=_read_mapping(extra_path), extra_source=extra_path.name)
