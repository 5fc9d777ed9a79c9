"""The second phantom family's canal rises to the mental foramen past where the model's trace ends
(issue 17). Through the shipped bundle, a plan that far forward comes within 2 mm of the true canal;
the keep-out around the trace's end leaves that site to the Clinical Lead instead."""

from __future__ import annotations

import numpy as np
import pytest

from golive.tasks.imaging import measure as measure_module
from golive.tasks.imaging.measure import cylinder_to_polyline, measure
from golive.tasks.imaging.phantom_spline import generate
from golive.tasks.imaging.segment import canal_uncertainty_mm, load_bundle, segment

pytestmark = pytest.mark.integration


def _true_clearances(ph, findings) -> dict[str, float]:
    """Site name -> the planned implant's clearance to the true canal (mm), for planned sites."""
    axis = np.array([0.0, 0.0, -1.0])
    out = {}
    for s in findings.sites:
        if s.recommended is not None:
            path = ph.canals[0] if s.side == "right" else ph.canals[1]
            out[s.name] = cylinder_to_polyline(np.array(s.crest_lps), axis, s.recommended.length_mm,
                                               s.recommended.diameter_mm / 2, path) - ph.canal_radius_mm
    return out


def test_a_site_over_the_canal_trace_end_is_not_planned(monkeypatch: pytest.MonkeyPatch) -> None:
    ph = generate(6, 1.0)
    bundle = load_bundle()
    seg = segment(ph.volume(), bundle)
    margin = canal_uncertainty_mm(bundle)

    monkeypatch.setattr(measure_module, "FORAMEN_KEEP_OUT_MM", 0.0)  # without the rule: the hazard
    unguarded = _true_clearances(ph, measure(seg, canal_uncertainty_mm=margin))
    assert min(unguarded.values()) < 2.0

    monkeypatch.undo()
    guarded = measure(seg, canal_uncertainty_mm=margin)
    assert all(c >= 2.0 for c in _true_clearances(ph, guarded).values())
    held = [s for s in guarded.sites if s.name in unguarded and unguarded[s.name] < 2.0]
    assert held and all(s.recommended is None and s.flagged_near_canal for s in held)
    assert all(any("mental foramen" in w for w in s.warnings) for s in held)
