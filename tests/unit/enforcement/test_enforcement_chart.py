"""The analysts' chart is well-formed SVG with a point per model and both thresholds drawn."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from services.enforcement.chart import ComputePoint, compute_chart_svg

pytestmark = pytest.mark.unit
SVG = "{http://www.w3.org/2000/svg}"


def test_points_thresholds_and_labels() -> None:
    points = [
        ComputePoint("FMR-1", "Honest <model>", 5e24, 5.5e24, open_case=False),
        ComputePoint("FMR-2", "Understated", 1e24, 2e25, open_case=True),
    ]
    root = ET.fromstring(compute_chart_svg(points, reportable_flop=1e25, frontier_flop=1e26))
    circles = root.findall(f"{SVG}circle")
    assert [c.get("data-registry-id") for c in circles] == ["FMR-1", "FMR-2"]
    assert [c.get("class") for c in circles] == ["point", "point open"]
    assert "Honest <model>" in (circles[0].find(f"{SVG}title").text or "")  # escaped in markup, intact as text
    assert len([line for line in root.findall(f"{SVG}line") if "threshold" in (line.get("class") or "")]) == 4
    assert root.find(f"{SVG}title").text == "Declared versus estimated training compute"
    assert "1e25" in (root.find(f"{SVG}desc").text or "")
    # the understated model sits above the honest one: larger estimate, smaller y
    assert float(circles[1].get("cy")) < float(circles[0].get("cy"))


def test_an_empty_chart_still_shows_the_thresholds() -> None:
    root = ET.fromstring(compute_chart_svg([], reportable_flop=1e25, frontier_flop=1e26))
    assert root.findall(f"{SVG}circle") == []
    assert any("frontier" in (t.text or "") for t in root.findall(f"{SVG}text"))
