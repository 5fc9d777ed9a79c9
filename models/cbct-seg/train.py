"""Train the cbct-seg bundle on synthetic jaw phantoms (CPU, minutes). Seeded; records steps and wall time.

    .venv/bin/python models/cbct-seg/train.py [--max-steps N] [--max-minutes M] [--threads T]

The network and its input convention come from configs/inference.json (one place): input is the HU
volume at 1.0 mm isotropic, MONAI spatial order (x=column, y=row, z=slice) in LPS orientation,
intensity scaled from [-1000, 3000] HU to [0, 1]. Training phantoms use seeds >= 10000; held-out
evaluation (evaluate.py) uses seeds below 1000, so no held-out scan is ever seen in training.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))
sys.path.insert(0, str(HERE))

from degrade import training_transforms  # noqa: E402
from monai.bundle import ConfigParser  # noqa: E402
from monai.losses import DiceCELoss  # noqa: E402

from golive.tasks.imaging.phantom import generate  # noqa: E402
from golive.tasks.imaging.segment import resample  # noqa: E402

log = logging.getLogger("cbct-seg.train")
TRAIN_SEED0 = 10000


def network():
    parser = ConfigParser()
    parser.read_config(HERE / "configs" / "inference.json")
    return parser.get_parsed_content("network_def")


def scale(hu: np.ndarray) -> np.ndarray:
    return np.clip((hu.astype(np.float32) + 1000.0) / 4000.0, 0.0, 1.0)


SPACINGS = (1.0,)  # acquisition voxel sizes drawn for training phantoms (--spacings)
MODEL_SPACING = 1.0  # the model's isotropic grid (mm, --model-spacing; the bundle's `spacing_mm`)


def sample(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A phantom acquired at a voxel size drawn from SPACINGS, brought to the model's grid exactly as
    `segment` does (linear for HU; nearest for labels)."""
    sp = SPACINGS[seed % len(SPACINGS)]
    ph = generate(seed, sp)
    grid = (MODEL_SPACING,) * 3
    hu = resample(ph.hu.astype(np.float32), ph.spacing, grid, order=1)
    lab = resample(ph.labels, ph.spacing, grid, order=0)
    return hu.transpose(2, 1, 0), lab.transpose(2, 1, 0)  # -> (x, y, z)


def crop_batch(pool, rng, size=(64, 64, 48), batch=2, degrade=None):
    xs, ys = [], []
    for _ in range(batch):
        hu, lab = pool[rng.integers(len(pool))]
        o = [rng.integers(0, n - s + 1) for n, s in zip(hu.shape, size, strict=True)]
        sl = tuple(slice(a, a + s) for a, s in zip(o, size, strict=True))
        h = hu[sl].astype(np.float32)
        lb = lab[sl]
        if degrade is not None:  # CBCT degradations (degrade.py, MONAI transforms)
            d = degrade({"image": h[None], "label": lb[None]})
            h, lb = np.asarray(d["image"])[0], np.asarray(d["label"])[0]
        else:
            h = h * rng.uniform(0.92, 1.08) + rng.uniform(-60, 60)  # scanner calibration spread
            h = h + rng.normal(0, rng.uniform(0, 30), size=h.shape)
        if rng.random() < 0.5:  # left-right mirror: anatomy is symmetric
            h, lb = h[::-1], lb[::-1]
        xs.append(scale(h)[None])
        ys.append(lb[None].astype(np.int64))
    return torch.from_numpy(np.ascontiguousarray(np.stack(xs))), torch.from_numpy(np.ascontiguousarray(np.stack(ys)))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--max-steps", type=int, default=4000)
    ap.add_argument("--max-minutes", type=float, default=17.0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--pool", type=int, default=40)
    ap.add_argument("--lr", type=float, default=3e-3, help="peak learning rate (cosine decay to 1e-4)")
    ap.add_argument("--resume", type=Path, help="start from these weights (a continued run)")
    ap.add_argument("--prior-steps", type=int, default=0, help="steps already taken by earlier segments")
    ap.add_argument("--prior-wall-s", type=float, default=0.0, help="wall time of earlier segments")
    ap.add_argument("--seed-start", type=int, default=TRAIN_SEED0)
    ap.add_argument("--prior-note", default="", help="what the earlier segments were (for the record)")
    ap.add_argument("--spacings", default="1.0", help="acquisition voxel sizes (mm) of training phantoms")
    ap.add_argument("--degrade", action="store_true", help="CBCT degradations (degrade.py)")
    ap.add_argument("--model-spacing", type=float, default=1.0, help="the model's isotropic grid (mm)")
    ap.add_argument("--out", type=Path, default=HERE / "models" / "model.pt")
    args = ap.parse_args()
    global SPACINGS, MODEL_SPACING
    SPACINGS = tuple(float(v) for v in args.spacings.split(","))
    MODEL_SPACING = args.model_spacing
    degrade = training_transforms(args.seed) if args.degrade else None
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)

    t0 = time.time()
    net = network()
    if args.resume:
        net.load_state_dict(torch.load(args.resume, map_location="cpu", weights_only=True))
    pool = [sample(args.seed_start + i) for i in range(args.pool)]
    next_seed = args.seed_start + args.pool
    log.info("pool of %d phantoms ready in %.1fs", len(pool), time.time() - t0)
    loss_fn = DiceCELoss(to_onehot_y=True, softmax=True, weight=torch.tensor([1.0, 1.0, 1.0, 1.0, 3.0]))
    opt = torch.optim.AdamW(net.parameters(), lr=3e-3, weight_decay=1e-5)
    budget = args.max_minutes * 60
    losses: list[float] = []
    step = 0
    net.train()
    while step < args.max_steps and time.time() - t0 < budget:
        frac = min(1.0, max(step / args.max_steps, (time.time() - t0) / budget))
        for g in opt.param_groups:
            g["lr"] = args.lr * 0.5 * (1 + np.cos(np.pi * frac)) + 1e-4
        x, y = crop_batch(pool, rng, degrade=degrade)
        loss = loss_fn(net(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
        step += 1
        if step % 10 == 0:  # keep the data fresh: replace one phantom with a new one
            pool[rng.integers(len(pool))] = sample(next_seed)
            next_seed += 1
        if step % 50 == 0:
            log.info("step %d loss %.4f lr %.5f elapsed %.0fs", step, np.mean(losses[-50:]),
                     opt.param_groups[0]["lr"], time.time() - t0)
            torch.save(net.state_dict(), args.out)
    wall = time.time() - t0
    torch.save(net.state_dict(), args.out)
    record = {
        "seed": args.seed, "steps": step + args.prior_steps, "wall_time_s": round(wall + args.prior_wall_s, 1),
        "segments": [{"steps": args.prior_steps, "wall_time_s": args.prior_wall_s,
                      "note": args.prior_note or "earlier segment(s) (see the model card)"}]
        if args.prior_steps else [],
        "last_segment": {"steps": step, "wall_time_s": round(wall, 1), "resumed": bool(args.resume)},
        "threads": args.threads,
        "batch": 2, "crop_xyz": [64, 64, 48], "spacing_mm": MODEL_SPACING,
        "acquisition_spacings_mm": list(SPACINGS), "degradations": "degrade.py" if args.degrade else "gain/offset/noise",
        "training_phantoms_last_segment": next_seed - args.seed_start,
        "train_seed_range_last_segment": [args.seed_start, next_seed - 1],
        "final_loss_mean_last_100": round(float(np.mean(losses[-100:])), 4),
        "optimizer": f"AdamW, peak lr {args.lr:g}, cosine to 1e-4", "loss": "DiceCE (CE weight 3 on canal)",
        "torch": torch.__version__,
    }
    record_file = HERE / "docs" / "training.json" if args.out == HERE / "models" / "model.pt" else \
        args.out.with_suffix(".training.json")
    record_file.write_text(json.dumps(record, indent=1))
    log.info("done: %s", record)


if __name__ == "__main__":
    main()
