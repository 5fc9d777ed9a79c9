"""Step kinds for the playbook's imaging integration (CBCT and intraoral), thin over the domain modules.

Outputs carry no patient identifiers: series are named by a one-way key, files by role.
"""

from __future__ import annotations

import logging
import re
import shutil
import time
import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from golive.tasks.context import StepContext
from golive.tasks.foundation import crash
from golive.tasks.foundation.durations import parse_duration
from golive.tasks.foundation.errors import StepFailed
from golive.tasks.imaging import network as net
from golive.tasks.imaging.errors import DicomNetworkError, ImagingError, TransferCheckFailed
from golive.tasks.imaging.receiver import short_hash
from golive.tasks.imaging.tls import client_tls
from golive.tasks.imaging.transport_kinds import admit_scan, refusal_note, stand_in
from golive.tasks.kind import StepKind
from golive.tasks.store import intents
from golive.tasks.store.intents import Intent, IntentState, intent_key

log = logging.getLogger(__name__)


class AiValidationFailed(StepFailed):
    """The AI analysis checklist (time, canal, density, implant plans, agreement) did not pass."""


class IosValidationFailed(StepFailed):
    """An intraoral scan failed its checks (load, triangle count, size, alignment with CBCT)."""


def _series_dir(ctx: StepContext, params: dict[str, Any]) -> Path:
    """The series to use: `series` (a folder) or a phantom generated from `phantom_seed` at
    `phantom_voxel_mm` (the step schemas bound it)."""
    if params.get("series"):
        return Path(str(params["series"]))
    from golive.tasks.imaging.phantom import write_phantom

    seed = int(params.get("phantom_seed", 0))
    spacing = float(params.get("phantom_voxel_mm", 1.0))
    out = Path(ctx.out_dir) / "imaging" / (f"phantom-{seed}" if spacing == 1.0 else f"phantom-{seed}-{spacing:g}mm")
    if not (out / "series").is_dir():
        # parallel steps may ask for the same phantom: write aside, then rename into place once
        tmp = out.parent / f".{out.name}-{uuid.uuid4().hex[:8]}"
        write_phantom(tmp, seed=seed, spacing=spacing)
        try:
            tmp.rename(out)
        except OSError:  # another step won the race; its phantom is identical (same seed)
            shutil.rmtree(tmp, ignore_errors=True)
    return out / "series"


def _evidence_dir(ctx: StepContext) -> Path:
    """out/<run key>/<location>/ when the run is for a location (integration validation): the next
    location's evidence never overwrites this one's. Otherwise out/ as before."""
    location = (ctx.params or {}).get("location")
    if not location:
        return Path(ctx.out_dir)
    safe = [re.sub(r"[^A-Za-z0-9._-]+", "-", str(part)).strip(".-") or "x" for part in (ctx.run_key, location)]
    return Path(ctx.out_dir).joinpath(*safe)


def _peer(params: dict[str, Any]) -> net.Peer:
    return net.Peer(str(params["host"]), int(params.get("port", 104)), str(params.get("ae_title", "ANY-SCP")),
                    str(params.get("calling_ae", "GOLIVE")), float(params.get("timeout_s", 30)),
                    client_tls(dict(params.get("tls") or {}), str(params["host"])))


def run_echo(ctx: StepContext, params: dict[str, Any]) -> dict[str, Any]:
    try:
        if params.get("host"):
            peer = _peer(params)
            res = net.echo(peer)
            where = "configured endpoint"
        else:  # no endpoint given: prove the path with the bundled receiver standing in
            with stand_in(ctx, params, "echo") as (r, peer):
                try:
                    res = net.echo(peer)
                except DicomNetworkError as exc:
                    raise DicomNetworkError(f"{exc}{refusal_note(r)}") from None
            where = "bundled receiver (stand-in endpoint)"
    except DicomNetworkError as exc:
        raise StepFailed(f"C-ECHO failed: {exc}") from None
    out = {"ok": res.ok, "status": res.status, "round_trip_ms": res.round_trip_ms, "endpoint": where,
           "ae_title": peer.ae_title, "transport": peer.over}
    ctx.audit("imaging.dicom_echo", out)
    if not res.ok:
        raise StepFailed(f"C-ECHO to {peer.host}:{peer.port} returned status 0x{res.status:04X}")
    return out


def run_send(ctx: StepContext, params: dict[str, Any]) -> dict[str, Any]:
    from golive.tasks.imaging.ingest import read_series

    budget = parse_duration(params.get("max_arrival", "5m"))
    series = _series_dir(ctx, params)
    try:
        vol = read_series(series).volume  # only whole, valid series are sent
    except ImagingError as exc:
        raise TransferCheckFailed(f"the sample series is not valid: {exc}") from None
    files = list(vol.files)
    series_key = "series-" + short_hash(vol.ids.series_instance_uid if vol.ids else "")
    intent = None
    try:
        if params.get("host"):
            peer = _peer(params)
            intent = _send_intent(ctx, peer, vol)
            if intent is not None and intent.state is IntentState.DONE:  # sent and verified before a kill
                return _send_outcome(ctx, {**intent.evidence["out"], "resumed": True}, None)
            held: set[str] = set()
            if intent is not None and intent.resumed and vol.ids:  # an earlier attempt may have sent some: read first
                held = set(net.query_instances(peer, vol.ids.study_instance_uid, vol.ids.series_instance_uid))
            crash.point("imaging.dicom_send", "intent", ctx.step_key)
            report = net.send_series(files, peer, held)
            crash.point("imaging.dicom_send", "sent", ctx.step_key)
            verdict, endpoint = _verify_by_query(peer, report, vol, budget, float(params.get("poll_s", 2.0)),
                                                 bool(params.get("verify_pixels", True)))
            if held:
                endpoint += f"; {len(held & {s.sop_instance_uid for s in report.instances})} instance(s) held " \
                            "by the peer from an earlier attempt were not sent again"
        else:
            with stand_in(ctx, params, "received") as (r, peer):
                try:
                    report = net.send_series(files, peer)
                except DicomNetworkError as exc:
                    raise DicomNetworkError(f"{exc}{refusal_note(r)}") from None
                deadline = time.time() + budget
                while len(r.received) < len(files) and time.time() < deadline:
                    time.sleep(0.05)
                verdict = net.verify_transfer(report, r.received, budget)
                if not verdict.passed and r.refusals:
                    verdict = replace(verdict, problems=(*verdict.problems, refusal_note(r).lstrip("; ")))
            endpoint = "bundled receiver (stand-in endpoint)"
    except DicomNetworkError as exc:
        raise TransferCheckFailed(f"sending failed: {exc}") from None
    out = verdict.as_dict() | {"series": series_key,
                               "endpoint": endpoint, "transport": peer.over, "send_s": round(report.elapsed_s, 3)}
    if intent is not None and verdict.passed:  # a failed transfer stays `intended`: a retry reads, then sends what is missing
        intents.advance(ctx.store, intent.key, IntentState.DONE, {"out": out})
    return _send_outcome(ctx, out, None if verdict.passed else "; ".join(verdict.problems))


def _send_intent(ctx: StepContext, peer: net.Peer, vol: Any) -> Intent | None:
    """The send's intent (None outside a run or without a store): keyed by the run key, the step,
    the peer and the series, committed before the first C-STORE."""
    if not ctx.run_key or ctx.store is None:
        return None
    key = intent_key(ctx.run_key, ctx.step_key, "imaging.dicom_send", peer.host, str(peer.port), peer.ae_title,
                     vol.ids.series_instance_uid if vol.ids else "")
    return intents.begin(ctx.store, key, run_key=ctx.run_key, step_key=ctx.step_key, kind="imaging.dicom_send")


def _send_outcome(ctx: StepContext, out: dict[str, Any], problem: str | None) -> dict[str, Any]:
    ctx.artifacts.table("imaging-transfer", [{"check": k, "value": str(out.get(k))} for k in
                                             ("sent", "arrived", "missing", "changed", "lossy",
                                              "wrong_association", "arrival_s", "budget_s")],
                        description="CBCT transfer: whole, unchanged, lossless, right patient, on time")
    ctx.audit("imaging.dicom_send", {k: out.get(k) for k in ("passed", "sent", "arrived", "arrival_s")})
    if problem is not None:
        raise TransferCheckFailed(problem)
    return out


def _verify_by_query(peer: net.Peer, report: net.SendReport, vol, budget: float, poll_s: float,
                     verify_pixels: bool) -> tuple[net.TransferVerdict, str]:
    """Poll the peer with C-FIND until it holds every instance (or the budget ends); then C-GET the
    series back and compare pixel hashes, transfer syntaxes and the patient association."""
    ids = vol.ids
    want = {s.sop_instance_uid for s in report.instances}
    deadline = report.started_at + budget
    have: set[str] = set()
    arrived_at = None
    while True:
        have = set(net.query_instances(peer, ids.study_instance_uid, ids.series_instance_uid)) & want
        if have == want:
            arrived_at = time.time()
            break
        if time.time() >= deadline:
            break
        time.sleep(poll_s)
    if arrived_at is not None and verify_pixels:
        try:
            got = net.retrieve_series(peer, ids.study_instance_uid, ids.series_instance_uid,
                                      {ids.sop_class_uid}, {s.transfer_syntax for s in report.instances}, arrived_at)
        except DicomNetworkError as exc:
            raise TransferCheckFailed(f"the series arrived but could not be retrieved to verify its pixels: {exc}") \
                from None
        return (net.verify_transfer(report, got, budget),
                "configured endpoint (arrival by C-FIND, pixels and association verified by C-GET)")
    problems = []
    missing = len(want - have)
    if missing:
        problems.append(f"{missing} of {len(want)} instance(s) not found on the peer within {budget:.0f}s")
    lossy = sum(1 for s in report.instances if net.is_lossy(s.transfer_syntax))
    if lossy:
        problems.append(f"{lossy} instance(s) were sent in a lossy transfer syntax")
    failed = sum(1 for s in report.instances if s.status != 0)
    if failed:
        problems.append(f"{failed} C-STORE request(s) did not succeed")
    arrival = None if arrived_at is None else round(arrived_at - report.started_at, 3)
    verdict = net.TransferVerdict(not problems, len(want), len(have), missing, 0, lossy, 0, arrival, budget,
                                  tuple(problems))
    return verdict, "configured endpoint (arrival by C-FIND only; pixel hashes not verified)"


def _confidence_threshold(ctx: StepContext, params: dict[str, Any]) -> float:
    """The step's `confidence_threshold`, else the organization's `standards.ai_confidence_threshold`."""
    if params.get("confidence_threshold") is not None:
        return float(params["confidence_threshold"])
    standards = getattr(ctx.org, "standards", None)
    return float(getattr(standards, "ai_confidence_threshold", 0.85))


def run_validate_ai(ctx: StepContext, params: dict[str, Any]) -> dict[str, Any]:
    from golive.tasks.imaging.analysis import analyze

    series = _series_dir(ctx, params)
    budget = parse_duration(params.get("max_time", "5m"))
    reference = params.get("reference")
    if reference == "phantom":  # the phantom's exact labels
        reference = str(series.parent / "labels.npy")
    thr = dict({"dice_mandible": 0.95, "dice_teeth": 0.90, "dice_canal": 0.80, "hd95_canal_mm": 1.5},
               **(params.get("thresholds") or {}))
    out_dir = _evidence_dir(ctx) / "imaging" / f"analysis-{ctx.step_key}".replace("/", "-")
    try:
        summary = analyze(series, out_dir, bundle=params.get("bundle"), reference=reference,
                          confidence_threshold=_confidence_threshold(ctx, params),
                          series_uid=params.get("series_uid"))
    except ImagingError as exc:
        raise AiValidationFailed(f"analysis could not run: {exc}") from None
    checks = [
        ("segmentation within time", summary["timings_s"]["total"] <= budget,
         f"{summary['timings_s']['total']:.1f}s of {budget:.0f}s"),
        ("nerve canals identified", all(c["found"] for c in summary["canals"]) and len(summary["canals"]) == 2,
         ", ".join(f"{c['side']}: {'found' if c['found'] else 'not found'} ({c['confidence']:.2f})"
                   for c in summary["canals"])),
        ("bone density available", all(s["density_hu"] is not None for s in summary["sites"]),
         f"{sum(s['density_hu'] is not None for s in summary['sites'])} of {len(summary['sites'])} site(s)"),
        ("implant recommendations generated",
         any(s["recommended"] is not None for s in summary["sites"])
         and all(s["recommended"] is not None or s["warnings"] for s in summary["sites"]),
         f"{sum(s['recommended'] is not None for s in summary['sites'])} of {len(summary['sites'])} site(s) "
         f"with an implant (clearance >= {summary['implant_rule']['required_clearance_mm']} mm: 2 mm plus the "
         "model's measured error); the rest explain why"),
        ("lossless source images", not summary["lossy_compression"],
         "lossy-compressed series: " + next((w for w in summary["warnings"] if w.startswith("lossy")), "")
         if summary["lossy_compression"] else "lossless"),
    ]
    agreement = summary.get("agreement")
    if agreement:
        for name in ("mandible", "teeth", "canal"):
            key = f"dice_{name}"
            if key in thr:
                d = agreement[name]["dice"]
                checks.append((f"Dice {name} >= {thr[key]}", d >= thr[key], f"{d:.3f}"))
        h = agreement["canal"]["hd95_mm"]
        checks.append((f"canal HD95 <= {thr['hd95_canal_mm']} mm", h is not None and h <= thr["hd95_canal_mm"],
                       "n/a" if h is None else f"{h:.2f} mm"))
    second = None
    if params.get("platform_output") is not None:  # golive as the second reader of the platform's output
        second = _second_reading(ctx, series, out_dir, summary, params)
        checks.append(("platform output agrees with golive's reading", second["verdict"] == "agrees",
                       f"{second['verdict']}: {len(second['review_items'])} review item(s) for the Clinical Lead"
                       + (f" ({second['reason']})" if second.get("reason") else "")))
    rows = [{"check": n, "passed": bool(ok), "evidence": ev} for n, ok, ev in checks]
    ctx.artifacts.table("imaging-ai-checks", rows, description="AI analysis checklist (phantom-trained model)")
    ctx.artifacts.table("imaging-sites", [
        {"site": s["name"], "side": s["side"], "implant": None if s["recommended"] is None else
         f"{s['recommended']['diameter_mm']} x {s['recommended']['length_mm']} mm",
         "density_hu": s["density_hu"], "misch_estimate": s["misch_class_estimate"],
         "near_canal": s["flagged_near_canal"], "confidence": s["confidence"]} for s in summary["sites"]],
        description="Candidate implant sites")
    ctx.artifacts.link("imaging-analysis", str(out_dir), description="SEG, SR, summary and previews")
    out = {"passed": all(r["passed"] for r in rows), "checks": rows, "out_dir": str(out_dir),
           "files": summary["files"], "timings_s": summary["timings_s"], "warnings": summary["warnings"],
           "sites": len(summary["sites"]), "agreement": agreement, "series": summary["series"],
           "lossy_compression": summary["lossy_compression"], "notes": summary["notes"]}
    if second is not None:
        out["second_reading"] = second
    ctx.audit("imaging.validate_ai", {"passed": out["passed"], "series": summary["series"]})
    if not out["passed"]:
        raise AiValidationFailed("AI analysis checks failed: " + "; ".join(
            f"{r['check']} ({r['evidence']})" for r in rows if not r["passed"]))
    return out


def _second_reading(ctx: StepContext, series: Path, out_dir: Path, summary: dict, params: dict[str, Any]) -> dict:
    """Compare the platform's SEG/SR (`platform_output`: a folder or a file) with golive's reading."""
    import json

    from golive.tasks.imaging import second_reader as sr
    from golive.tasks.imaging.ingest import read_series

    vol = read_series(series, series_uid=params.get("series_uid")).volume
    try:
        platform = sr.read_platform(Path(str(params["platform_output"])), vol)
        ours = sr._seg_labels(out_dir / summary["files"]["seg"], vol)
    except ImagingError as exc:
        raise AiValidationFailed(f"second reading could not run: {exc}") from None
    tol = sr.Tolerances(**{k: v for k, v in (params.get("tolerances") or {}).items()})
    result = sr.compare(platform, ours if ours is not None else np.zeros(vol.shape, np.uint8), summary["sites"],
                        vol, tol)
    (out_dir / "second-reading.json").write_text(json.dumps(result, indent=1))
    ctx.artifacts.table("imaging-second-reading", [{"structure": k, **v} for k, v in result["structures"].items()]
                        + [dict(r) for r in result["sites"]],
                        description="Platform vs golive: agreement per structure and per implant site")
    ctx.artifacts.table("imaging-review-items", result["review_items"] or [
        {"kind": "none", "detail": result.get("reason") or "no disagreement beyond tolerance",
         "assignee": "Clinical Lead"}], description=f"Second reading: {result['verdict']}")
    ctx.audit("imaging.second_reading", {"verdict": result["verdict"], "items": len(result["review_items"]),
                                         "series": summary["series"]})
    return result


def run_validate_ios(ctx: StepContext, params: dict[str, Any]) -> dict[str, Any]:
    from golive.tasks.imaging import ios

    path = params.get("scan")
    cbct_series = None
    if not path:  # a phantom scan of the phantom CBCT's crowns (demo and tests)
        series = _series_dir(ctx, params)
        import numpy as np

        from golive.tasks.imaging.ingest import read_series

        labels = np.load(series.parent / "labels.npy")
        vol = read_series(series).volume
        path = ios.phantom_scan(labels, vol.affine, series.parent / "ios-scan.stl")
        cbct_series = (vol, labels)
    lo, hi = params.get("extent_mm", [15.0, 120.0])
    try:
        admit_scan(ctx, params, path)  # the location's type and size limits, as for DICOM transfers
        rep = ios.check_mesh(path, int(params.get("min_triangles", 1000)),
                             int(params.get("max_triangles", 5_000_000)), (float(lo), float(hi)))
    except ImagingError as exc:
        raise IosValidationFailed(str(exc)) from None
    out: dict[str, Any] = {"passed": rep.passed, "triangles": rep.triangles, "extent_mm": list(rep.extent_mm),
                           "watertight": rep.watertight, "open_edges": rep.open_edges,
                           "degenerate_faces": rep.degenerate_faces, "problems": list(rep.problems),
                           "warnings": list(rep.warnings)}
    if params.get("align_with_cbct", True) and cbct_series is not None:
        vol, labels = cbct_series
        al = ios.align_to_cbct(ios.load_mesh(path), labels == 3, vol.affine, float(params.get("max_rms_mm", 1.0)))
        out["alignment"] = al
        if not al["aligned"]:
            out["passed"] = False
            out["problems"].append(f"alignment RMS {al['rms_mm']} mm exceeds {al['max_rms_mm']} mm")
    ctx.artifacts.table("imaging-ios", [{"check": k, "value": str(v)} for k, v in out.items()],
                        description="Intraoral scan checks")
    if not out["passed"]:
        raise IosValidationFailed("; ".join(out["problems"]))
    return out


KINDS: tuple[StepKind, ...] = (
    StepKind("imaging.dicom_echo", run_echo),
    StepKind("imaging.dicom_send", run_send),
    StepKind("imaging.validate_ai", run_validate_ai),
    StepKind("imaging.validate_ios", run_validate_ios),
)
