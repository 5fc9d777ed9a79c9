"""Remove the model's islands far from the jaw before anything is measured (issue 17).

A jaw bone is one piece, so only the largest connected component of the mandible and of the maxilla is
kept (MONAI `KeepLargestConnectedComponent`, per label). Teeth and canals are many pieces; a piece is
kept when it lies within `NEAR_BONE_MM` of the kept bone (a tooth sits in its socket, the canal runs
inside the mandible). Removed voxels become background in the class probabilities themselves, so the
labels on the model grid and the ones `Segmentation.on_source_grid` interpolates back agree.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy import ndimage

NEAR_BONE_MM = 2.0
JAW_BONES = ("mandible", "maxilla")  # the bones; segment.py reads their outer edges on a finer series
# structure -> the bones it must lie near
_ATTACHED = {"teeth": ("mandible", "maxilla"), "canal": ("mandible",)}


def _far_from(mask: np.ndarray, bone: np.ndarray, spacing: tuple[float, ...]) -> np.ndarray:
    """The voxels of `mask`'s connected pieces (26-connected) with no voxel within NEAR_BONE_MM of `bone`."""
    pieces, n = ndimage.label(mask, structure=np.ones((3, 3, 3), bool))
    if n == 0:
        return np.zeros_like(mask)
    if not bone.any():
        return mask  # nothing to attach to: every piece is an island
    near = ndimage.distance_transform_edt(~bone, sampling=spacing) <= NEAR_BONE_MM
    kept = np.unique(pieces[near & mask])
    return mask & ~np.isin(pieces, kept)


def remove_islands(probs: torch.Tensor, labels: dict[str, int], spacing: tuple[float, ...]) -> torch.Tensor:
    """Softmax probabilities (C, x, y, z; `spacing` in the same axis order) with every removed voxel set
    to background (P = 1 for class 0). Classes the bundle does not name are left alone."""
    from monai.transforms import KeepLargestConnectedComponent

    arg = probs.argmax(dim=0)
    bones = [labels[b] for b in JAW_BONES if b in labels]
    # the transform writes into its input: give it a copy, `arg` is compared with its result
    kept = KeepLargestConnectedComponent(applied_labels=bones, is_onehot=False, independent=True)(
        arg[None].clone())[0]
    removed = (arg != kept).numpy()
    kept_np = kept.numpy()
    for name, attach in _ATTACHED.items():
        if name not in labels:
            continue
        bone = np.isin(kept_np, [labels[b] for b in attach if b in labels])
        removed |= _far_from(kept_np == labels[name], bone, spacing)
    if not removed.any():
        return probs
    out = probs.clone()
    idx = torch.from_numpy(removed)
    out[:, idx] = 0
    out[labels.get("background", 0), idx] = 1
    return out
