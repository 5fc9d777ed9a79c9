"""Segment a `Volume` with a MONAI bundle (default: models/cbct-seg, trained here on phantoms).

The bundle's `configs/inference.json` is the single statement of the model's input convention:
`network_def`, `spacing_mm`, `hu_window`, `labels`, `roi_size`. The network takes MONAI spatial order
(x=column, y=row, z=slice) in LPS orientation; this module converts from the `Volume` order
(k, i, j) at its boundary and resamples to the model spacing and back.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
from scipy import ndimage

from golive.tasks.foundation.paths import MODELS
from golive.tasks.imaging.edges import BoneEdges
from golive.tasks.imaging.errors import ModelBundleError
from golive.tasks.imaging.volume import Volume

log = logging.getLogger(__name__)
DEFAULT_BUNDLE = MODELS / "cbct-seg"
WHOLE_VOLUME_VOXELS = 160 * 160 * 128
FINER = 0.75  # a series whose voxels are at most this fraction of the model's is "finer" (0.2-0.4 mm vs 1 mm)
# On a finer series the network runs a second time, on a model grid offset by half a voxel along every axis,
# and the labels on the series' grid come from both passes (`on_source_grid`): the series is then sampled at
# two phases instead of one. On validation phantoms (seeds 5000-5015, neither trained nor evaluated on) at
# 0.4 mm: canal Dice +0.006 to +0.026 and teeth +0.001 to +0.008 on every one (model card, "Current figures").
PHASE_SHIFT = 0.5


@dataclass(frozen=True)
class Bundle:
    root: Path
    network: torch.nn.Module
    spacing_mm: tuple[float, ...]  # model grid, (x, y, z) = (column, row, slice)
    hu_window: tuple[float, float]
    labels: dict[str, int]
    roi_size: tuple[int, ...]  # (x, y, z), sliding-window patch (the training crop)
    name: str
    version: str
    # added to the network's logits before the softmax, one per class (the bundle's `logit_offsets`):
    # a class whose cross-entropy was weighted w in training is over-predicted at its edges; -ln(w)
    # undoes that (logit adjustment, Menon et al., ICLR 2021)
    logit_offsets: tuple[float, ...] = ()
    # test-time flips (the bundle's `tta_flip_axes`, MONAI spatial axes): logits averaged over the
    # input and its mirror along each axis the model was trained to be symmetric in
    tta_flip_axes: tuple[int, ...] = ()


@dataclass(frozen=True)
class Segmentation:
    """Labels on the model grid (k, i, j order) with their affine, per-voxel confidence and timings."""

    labels: np.ndarray  # uint8 [k, i, j] on the model grid
    hu: np.ndarray  # float32 [k, i, j]: the input resampled onto the model grid (for measurements)
    confidence: np.ndarray  # float32 [k, i, j]: softmax probability of the chosen label
    affine: np.ndarray  # (k, i, j, 1) -> LPS mm on the model grid
    spacing: tuple[float, ...]  # (slice, row, column) mm
    label_names: dict[int, str]
    label_confidence: dict[str, float]  # mean confidence inside each predicted structure
    inference_s: float
    source_shape: tuple[int, ...]
    source_spacing: tuple[float, ...]
    bone_probability: np.ndarray | None = None  # float32 [k, i, j]: P(mandible) + P(canal), sub-voxel edges
    probabilities: np.ndarray | None = None  # float16 [C, k, i, j]: softmax on the model grid
    # the received series itself (not a copy): measurements that a finer series resolves better than the
    # model grid read it (crest.py)
    source: Volume | None = None
    # float16 [C, k, i, j]: softmax on the model grid offset by PHASE_SHIFT voxels along every axis; only
    # when the series is finer (the second sampling phase of `on_source_grid`)
    shifted_probabilities: np.ndarray | None = None

    def finer_source(self) -> Volume | None:
        """The series when its voxels are clearly smaller than the model's (0.2-0.4 mm against 1 mm)."""
        return self.source if _finer(self.source_spacing, self.spacing) else None

    def on_source_grid(self, series_edges: bool = True) -> np.ndarray:
        """Labels back on the source volume's grid (the inverse of the resampling to the model's spacing,
        MONAI `Invertd`'s job): each class's log-probability is interpolated linearly onto the finer grid and
        the argmax taken there, so edges fall between model voxels instead of on a 1 mm staircase. On a clearly
        finer series, the log-probabilities of the half-voxel shifted pass are added before the argmax, and
        the jaw bones' outer edges are then read from its grey values (edges.py). Without probabilities:
        nearest. `series_edges=False` skips the edges (to measure what they change)."""
        if self.labels.shape == self.source_shape and np.allclose(self.spacing, self.source_spacing):
            return self.labels
        scale = np.array(self.source_spacing) / np.array(self.spacing)
        if self.probabilities is None:
            return ndimage.affine_transform(self.labels, scale, output_shape=self.source_shape, order=0,
                                            mode="nearest")
        from golive.tasks.imaging.postprocess import JAW_BONES

        bones = {v: n for v, n in self.label_names.items() if n in JAW_BONES}
        finer = self.finer_source()
        edges = BoneEdges(finer, bones) if series_edges and finer is not None and bones else None
        phases = [(self.probabilities, 0.0)]
        if self.shifted_probabilities is not None:
            phases.append((self.shifted_probabilities, PHASE_SHIFT))
        out = _upsample_argmax(phases, scale, self.source_shape, edges)
        if edges:
            edges.apply(out)
        return out


def _finer(source_spacing: tuple[float, ...], model_spacing: tuple[float, ...]) -> bool:
    return max(source_spacing) <= FINER * min(model_spacing)


def _taps(n_out: int, size: int, scale: float, offset: float = 0.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Two neighbours and the weight of the second, for 1-D linear interpolation at model coordinates
    index * scale - offset (clamped to the border, like mode="nearest")."""
    m = np.clip(np.arange(n_out) * scale - offset, 0, size - 1)
    i0 = np.floor(m).astype(int)
    return i0, np.minimum(i0 + 1, size - 1), (m - i0).astype(np.float32)


LOG_FLOOR = 1e-6  # probabilities are stored as float16: below this their logarithm is noise


class _Interpolated:
    """Trilinear interpolation of (C, k, i, j) model-grid values at the source voxels, whose model-grid
    coordinate is index * scale - offset (first voxel centres coincide when offset is 0, as in `resample`).
    Separable on an axis-aligned grid: a model slice is interpolated in-plane (along j, then i) when a source
    slice first needs it and kept while the next ones do; a source slice blends two such planes. Read slices
    in increasing order; memory stays at three in-plane slices. One per thread: it keeps state."""

    def __init__(self, values: np.ndarray, scale: np.ndarray, shape: tuple[int, ...], offset: float = 0.0) -> None:
        self.values = values
        self.j = _taps(shape[2], values.shape[3], scale[2], offset)
        self.i = _taps(shape[1], values.shape[2], scale[1], offset)
        self.k0, self.k1, self.wk = _taps(shape[0], values.shape[1], scale[0], offset)
        self.planes: dict[int, np.ndarray] = {}
        self.out = np.empty((values.shape[0], shape[1], shape[2]), np.float32)

    def _plane(self, k: int) -> np.ndarray:
        if k not in self.planes:
            if len(self.planes) == 2:
                del self.planes[min(self.planes)]  # slices are read in order: the lower one is done
            (j0, j1, wj), (i0, i1, wi) = self.j, self.i
            v = self.values[:, k]
            v = v[..., j0] * (1 - wj) + v[..., j1] * wj  # (C, i, J)
            self.planes[k] = v[:, i0, :] * (1 - wi)[:, None] + v[:, i1, :] * wi[:, None]  # (C, I, J)
        return self.planes[k]

    def slice(self, n: int) -> np.ndarray:
        """Source slice n (C, I, J), in a buffer that the next call overwrites."""
        a, b = self._plane(int(self.k0[n])), self._plane(int(self.k1[n]))
        np.subtract(b, a, out=self.out)
        np.multiply(self.out, self.wk[n], out=self.out)
        return np.add(self.out, a, out=self.out)


def _upsample_argmax(phases: list[tuple[np.ndarray, float]], scale: np.ndarray, shape: tuple[int, ...],
                     edges: BoneEdges | None = None) -> np.ndarray:
    """Argmax of the class log-probabilities interpolated trilinearly at the source voxels (`_Interpolated`),
    summed over the sampling phases: (C, k, i, j) probabilities on the model grid and that grid's offset in
    model voxels. Log-probabilities are the logits less a per-voxel constant, so this is the argmax of the
    interpolated logits summed over the phases (logit averaging, as for the mirror pass): a thin structure
    keeps the edge the network drew, where averaging probabilities lets the class that is sure on both sides
    win the voxels between (canal Dice on held-out phantoms at 0.4 mm, seeds 18/5/0: 0.815/0.869/0.879 with
    probabilities, 0.826/0.892/0.903 with log-probabilities, one phase). Slabs of slices run on torch's
    configured threads (numpy's arithmetic frees the interpreter lock). `edges` then observes, slice by
    slice, the linearly interpolated probabilities of its classes in the first phase (their wider uncertain
    band is where it looks for a jaw edge the model may have misplaced) and the labels."""
    out = _argmax_of_log(phases, scale, shape)
    if edges:
        probs, offset = phases[0]
        lin_p = _Interpolated(probs[list(edges.classes)].astype(np.float32), scale, shape, offset)
        for n in range(shape[0]):
            edges.observe(n, lin_p.slice(n), out[n])
    return out


def _argmax_of_log(phases: list[tuple[np.ndarray, float]], scale: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    logs = [(np.log(np.maximum(p.astype(np.float32), LOG_FLOOR)), offset) for p, offset in phases]
    out = np.empty(shape, np.uint8)

    def argmax(slices: np.ndarray) -> None:
        first, *others = [_Interpolated(v, scale, shape, offset) for v, offset in logs]
        for n in slices:
            total = first.slice(n)
            for phase in others:
                np.add(total, phase.slice(n), out=total)
            out[n] = np.argmax(total, axis=0)

    threads = max(1, min(torch.get_num_threads(), shape[0]))
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(argmax, np.array_split(np.arange(shape[0]), threads)))
    return out


@lru_cache(maxsize=4)
def _load(root: str) -> Bundle:
    from monai.bundle import ConfigParser

    path = Path(root)
    cfg_file = path / "configs" / "inference.json"
    weights = path / "models" / "model.pt"
    meta_file = path / "configs" / "metadata.json"
    for f in (cfg_file, weights, meta_file):
        if not f.is_file():
            raise ModelBundleError(f"{f}: missing from the MONAI bundle")
    try:
        parser = ConfigParser()
        parser.read_config(cfg_file)
        parser.read_meta(meta_file)
        net = parser.get_parsed_content("network_def")
        state = torch.load(weights, map_location="cpu", weights_only=True)
        net.load_state_dict(state)
        net.eval()
        labels = dict(parser.get("labels", {"background": 0}))
        meta = parser.get("_meta_", {})
    except ModelBundleError:
        raise
    except Exception as exc:  # config/weights mismatch, bad JSON: name the bundle, keep the cause
        raise ModelBundleError(f"{path}: cannot load bundle ({type(exc).__name__}: {exc})") from exc
    sp = parser.get("spacing_mm", [1.0, 1.0, 1.0])
    offsets = tuple(float(v) for v in parser.get("logit_offsets", []))
    if offsets and len(offsets) != len(labels):
        raise ModelBundleError(f"{cfg_file}: logit_offsets has {len(offsets)} values for {len(labels)} labels")
    flips = tuple(int(v) for v in parser.get("tta_flip_axes", []))
    if any(a not in (0, 1, 2) for a in flips):
        raise ModelBundleError(f"{cfg_file}: tta_flip_axes must name spatial axes 0, 1 or 2, not {list(flips)}")
    return Bundle(path, net, tuple(float(v) for v in sp), tuple(parser.get("hu_window", [-1000, 3000])),
                  labels, tuple(int(v) for v in parser.get("roi_size", [64, 64, 48])),
                  str(meta.get("name", path.name)), str(meta.get("version", "")), offsets, flips)


UNMEASURED_UNCERTAINTY_MM = 1.0  # a bundle that ships no measured canal error gets this margin


def canal_uncertainty_mm(bundle: Bundle) -> float:
    """The model's measured canal-clearance error (95th percentile, mm) from the bundle's
    docs/metrics.json; implant plans keep this much on top of the 2 mm rule."""
    import json

    try:
        m = json.loads((bundle.root / "docs" / "metrics.json").read_text())
        return float(m["canal_clearance_abs_error_mm"]["p95"])
    except (OSError, ValueError, KeyError, TypeError):
        return UNMEASURED_UNCERTAINTY_MM


def load_bundle(path: Path | str | None = None) -> Bundle:
    return _load(str(Path(path or DEFAULT_BUNDLE).resolve()))


def resample(array: np.ndarray, spacing: tuple[float, ...], target: tuple[float, ...], order: int = 1,
             offset: float = 0.0) -> np.ndarray:
    """Resample a (k, i, j) array to `target` spacing, the first voxel centre `offset` target voxels past
    the array's first along every axis (0: in place)."""
    if offset == 0 and np.allclose(spacing, target, rtol=0.01):
        return array
    shape = tuple(int(np.floor((n - 1) * s / t - offset)) + 1
                  for n, s, t in zip(array.shape, spacing, target, strict=True))
    scale = np.array(target) / np.array(spacing)
    return ndimage.affine_transform(array, scale, offset=offset * scale, output_shape=shape, order=order,
                                    mode="nearest")


def predict_xyz(bundle: Bundle, hu_xyz: np.ndarray) -> torch.Tensor:
    """Softmax probabilities (C, x, y, z) for an HU array already in model order and spacing."""
    from monai.inferers import sliding_window_inference

    lo, hi = bundle.hu_window
    x = torch.from_numpy(np.clip((hu_xyz.astype(np.float32) - lo) / (hi - lo), 0, 1))[None, None]
    roi = tuple(min(r, _ceil8(n)) for r, n in zip(bundle.roi_size, x.shape[2:], strict=True))

    def logits(x: torch.Tensor) -> torch.Tensor:
        # one padded pass when the volume is small (a dental FOV at the model spacing): fewer, larger
        # convolutions than overlapping windows; sliding windows beyond WHOLE_VOLUME_VOXELS
        if np.prod(x.shape[2:]) <= WHOLE_VOLUME_VOXELS:
            pad = [0] * 6
            for d, n in enumerate(x.shape[2:]):
                pad[2 * (2 - d) + 1] = _ceil8(n) - n  # one pass, padded to the network's stride
            xp = torch.nn.functional.pad(x, pad, mode="replicate")
            return bundle.network(xp)[..., : x.shape[2], : x.shape[3], : x.shape[4]]
        out = sliding_window_inference(x, roi, 1, bundle.network, overlap=0.25, mode="gaussian")
        assert isinstance(out, torch.Tensor)  # one output head
        return out

    with torch.inference_mode():
        out = logits(x)[0]
        for axis in bundle.tta_flip_axes:
            out += torch.flip(logits(torch.flip(x, dims=[2 + axis]))[0], dims=[1 + axis])
        out /= 1 + len(bundle.tta_flip_axes)
        if bundle.logit_offsets:
            out += torch.tensor(bundle.logit_offsets, dtype=out.dtype)[:, None, None, None]
        return torch.softmax(out, dim=0)


def _ceil8(n: int) -> int:
    return int(np.ceil(n / 8) * 8)


def segment(volume: Volume, bundle: Bundle | None = None, remove_islands: bool = True) -> Segmentation:
    """Run the bundle on a canonical (LPS, axial) volume. See the module docstring for conventions;
    `remove_islands` is `postprocess.remove_islands` (off only to measure what it changes)."""
    from golive.tasks.imaging import postprocess

    b = bundle or load_bundle()
    t0 = time.perf_counter()
    target = tuple(reversed(b.spacing_mm))  # (x, y, z) -> (slice, row, column)
    hu = resample(volume.array, volume.spacing, target, order=1)

    def probabilities(hu_kij: np.ndarray) -> torch.Tensor:
        p = predict_xyz(b, hu_kij.transpose(2, 1, 0))
        return postprocess.remove_islands(p, b.labels, b.spacing_mm) if remove_islands else p

    probs = probabilities(hu)
    shifted = None
    if _finer(volume.spacing, target):
        shifted = _kij16(probabilities(resample(volume.array, volume.spacing, target, offset=PHASE_SHIFT)))
    conf_t, lab_t = probs.max(dim=0)
    labels = lab_t.numpy().astype(np.uint8).transpose(2, 1, 0).copy()
    conf = conf_t.numpy().astype(np.float32).transpose(2, 1, 0).copy()
    bone_p = None
    if "mandible" in b.labels:
        bp = probs[b.labels["mandible"]] + (probs[b.labels["canal"]] if "canal" in b.labels else 0)
        bone_p = bp.numpy().astype(np.float32).transpose(2, 1, 0).copy()
    dt = time.perf_counter() - t0
    names = {v: k for k, v in b.labels.items()}
    label_conf = {names[v]: float(conf[labels == v].mean()) if (labels == v).any() else 0.0
                  for v in names if v != 0}
    aff = np.array(volume.affine, dtype=np.float64)
    for a in range(3):
        aff[:3, a] = aff[:3, a] / volume.spacing[a] * target[a]
    log.info("segmented a volume of shape %s in %.2fs", volume.shape, dt)
    return Segmentation(labels, np.asarray(hu, dtype=np.float32), conf, aff, target, names, label_conf, dt,
                        volume.shape, volume.spacing, bone_p, _kij16(probs), volume, shifted)


def _kij16(probs_xyz: torch.Tensor) -> np.ndarray:
    """(C, x, y, z) probabilities as float16 (C, k, i, j): half the memory, ample for interpolation."""
    return probs_xyz.numpy().astype(np.float16).transpose(0, 3, 2, 1).copy()
