from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from golive.tasks.imaging.volume import SourceIds, Volume, make_affine


def test_affine_maps_index_to_lps() -> None:
    aff = make_affine((-10.0, -20.0, 5.0), (1, 0, 0), (0, 1, 0), (2.0, 0.5, 0.25))
    vol = Volume(np.zeros((3, 4, 5)), (2.0, 0.5, 0.25), aff)
    # k=1 moves 2 mm superior, i=2 moves 1 mm posterior, j=4 moves 1 mm left
    assert np.allclose(vol.index_to_lps(np.array([1, 2, 4])), [-9.0, -19.0, 7.0])
    assert np.allclose(vol.lps_to_index(np.array([-9.0, -19.0, 7.0])), [1, 2, 4])
    assert vol.spacing_xyz == (0.25, 0.5, 2.0)
    assert vol.to_xyz().shape == (5, 4, 3)


def test_volume_is_read_only_and_frozen() -> None:
    vol = Volume(np.zeros((2, 2, 2)), (1, 1, 1), np.eye(4))
    with pytest.raises(ValueError):
        vol.array[0, 0, 0] = 1
    with pytest.raises(dataclasses.FrozenInstanceError):
        vol.spacing = (2, 2, 2)  # type: ignore[misc]


def test_repr_keeps_identifiers_out() -> None:
    ids = SourceIds("1.2.3", "1.2.4", "1.2.5", ("1.2.6",), "1.2.840.10008.5.1.4.1.1.2", "PAT-123", "Doe^Jane")
    vol = Volume(np.zeros((2, 2, 2)), (1, 1, 1), np.eye(4), ids)
    text = repr(vol) + repr(ids) + str(ids)
    assert "PAT-123" not in text and "Doe" not in text and "1.2.4" not in text


def test_bad_shapes_are_refused() -> None:
    with pytest.raises(ValueError):
        Volume(np.zeros((2, 2)), (1, 1, 1), np.eye(4))
    with pytest.raises(ValueError):
        Volume(np.zeros((2, 2, 2)), (1, 0, 1), np.eye(4))
