"""Build deploy/demo/registrations.json from Epoch AI's Notable AI Models database.

Data: Epoch AI, 'Parameter, Compute and Data Trends in Machine Learning', epoch.ai (notable-ai-models), CC BY.
Run from the project root with the shared data beside it:
    python deploy/demo/build_demo.py ../shared/data/epoch/notable_ai_models.csv
The output is committed, since a user's machine has no copy of the shared data. Dense language models only
(Epoch's `Parameters` is the total, which is the right N for 6ND only when the model is dense). A few filings
are deliberately understated (declared compute divided by 10) so that the demo shows enforcement cases.
"""

from __future__ import annotations

import csv
import json
import re
import sys
from pathlib import Path

DENSE_MODELS = [
    "Llama 3.1-405B",
    "Llama 3-70B",
    "Qwen2.5-72B",
    "PaLM 2",
    "Telechat2-115B",
    "Llama 3.3 70B",
    "Amazon Titan",
    "Qwen2.5-32B",
    "Qwen2-72B",
    "EXAONE 4.0 (32B)",
    "Pangu Ultra",
    "Aramco Metabrain AI",
]
UNDERSTATED = {"Telechat2-115B": 10.0, "Amazon Titan": 10.0, "Aramco Metabrain AI": 10.0}
COUNTRIES = {
    "United States of America": "US",
    "China": "CN",
    "Saudi Arabia": "SA",
    "Korea (Republic of)": "KR",
}


def _number(value: str) -> float | None:
    try:
        return float(value)
    except ValueError:
        return None


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def build(source: Path) -> list[dict[str, object]]:
    rows = {r["Model"]: r for r in csv.DictReader(source.open(encoding="utf-8"))}
    filings = []
    for name in DENSE_MODELS:
        row = rows[name]
        organisation = row["Organization"].split(",")[0].strip()
        compute = {
            "declared_training_flop": float(row["Training compute (FLOP)"]) / UNDERSTATED.get(name, 1.0),
            "parameters": _number(row["Parameters"]),
            "training_tokens": _number(row["Training dataset size (total)"]),
            "epochs": _number(row["Epochs"]),
            "chip_type": row["Training hardware"].split(",")[0].strip() or None,
            "chip_count": int(q) if (q := _number(row["Hardware quantity"])) else None,
            "training_hours": _number(row["Training time (hours)"]),
        }
        filings.append(
            {
                "developer": {
                    "organisation_id": _slug(organisation),
                    "legal_name": organisation,
                    "country": COUNTRIES.get(row["Country (of organization)"].split(",")[0].strip(), "US"),
                },
                "model_name": name,
                "compute": {k: v for k, v in compute.items() if v is not None},
                "_demo_note": f"understated {UNDERSTATED[name]:g}x" if name in UNDERSTATED else "honest",
            }
        )
    return filings


if __name__ == "__main__":
    source = Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/data/epoch/notable_ai_models.csv")
    out = Path(__file__).parent / "registrations.json"
    out.write_text(json.dumps(build(source), indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out}")
