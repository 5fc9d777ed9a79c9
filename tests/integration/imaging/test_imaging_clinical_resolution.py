"""Clinical voxel sizes (issue 17), slow: one held-out phantom per spacing through the shipped bundle.

Floors, not the issue's targets (those are reported, per spacing, by models/cbct-seg/evaluate.py and
the model card): the inverse resampling keeps structures whole, adjacent gaps stay separate sites,
and no recommended implant comes within 2 mm of the true canal.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from golive.tasks.imaging.analysis import dice
from golive.tasks.imaging.measure import cylinder_to_polyline, measure
from golive.tasks.imaging.phantom import generate
from golive.tasks.imaging.segment import canal_uncertainty_mm, load_bundle, segment

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.mark.parametrize("spacing", [0.4, 0.3, 0.2])
def test_phantom_at_clinical_spacing(spacing: float) -> None:
    ph = generate(1, spacing)
    bundle = load_bundle()
    seg = segment(ph.volume(), bundle)
    labels = seg.on_source_grid()
    assert labels.shape == ph.labels.shape
    assert dice(labels == 1, ph.labels == 1) > 0.93
    assert dice(labels == 4, ph.labels == 4) > 0.80
    f = measure(seg, canal_uncertainty_mm=canal_uncertainty_mm(bundle))
    assert len(f.sites) == len(ph.sites)  # adjacent gaps are not merged
    axis = np.array([0.0, 0.0, -1.0])
    for s in f.sites:
        if s.recommended is None:
            continue
        path = ph.canals[0] if s.side == "right" else ph.canals[1]
        true = cylinder_to_polyline(np.array(s.crest_lps), axis, s.recommended.length_mm,
                                    s.recommended.diameter_mm / 2, path) - ph.canal_radius_mm
        assert true >= 2.0, (s.name, true)


def test_the_series_grid_places_the_crest_closer_than_the_model_grid() -> None:
    """crest.py: at 0.3 mm the crest read from the series is nearer the phantom's true crest than the
    1 mm model's (the error that goes one for one into an implant's canal clearance)."""
    ph = generate(2, 0.3)
    seg = segment(ph.volume(), load_bundle())
    assert seg.finer_source() is not None
    errors = {}
    for name, s in (("series", seg), ("model", replace(seg, source=None))):
        found = measure(s).sites
        errors[name] = np.array([
            min(found, key=lambda f: np.hypot(*(np.array(f.crest_lps[:2]) - np.array(t.crest_mm[:2])))).crest_lps[2]
            - t.crest_mm[2] for t in ph.sites])
    assert np.abs(errors["series"]).mean() < np.abs(errors["model"]).mean(), errors
    assert np.abs(errors["series"]).max() <= 0.4, errors


def test_the_half_voxel_second_pass_sharpens_thin_structures() -> None:
    """segment.py PHASE_SHIFT: on a finer series the network also runs on a model grid shifted by half a
    voxel, and both passes' log-probabilities make the labels. On validation phantom 5000 at 0.4 mm
    (neither a training nor an evaluation seed) that raised canal Dice 0.931 -> 0.949."""
    ph = generate(5000, 0.4)
    seg = segment(ph.volume(), load_bundle())
    assert seg.shifted_probabilities is not None
    two = seg.on_source_grid()
    one = replace(seg, shifted_probabilities=None).on_source_grid()
    for label, gain in ((4, 0.01), (3, 0.0)):  # canal, teeth
        assert dice(two == label, ph.labels == label) > dice(one == label, ph.labels == label) + gain, label
    coarse = generate(5000, 1.0)
    assert segment(coarse.volume(), load_bundle()).shifted_probabilities is None  # nothing finer to sample
