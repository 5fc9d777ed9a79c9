"""DICOM network checks as plain functions: C-ECHO, sending a series, querying a peer, and the pure
verdict on whether a sent series arrived whole, unchanged, on time and with the right association.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pydicom
from pydicom.dataset import Dataset
from pynetdicom import AE, build_context, build_role, evt
from pynetdicom.sop_class import (  # type: ignore[attr-defined]
    StudyRootQueryRetrieveInformationModelFind,
    StudyRootQueryRetrieveInformationModelGet,
    Verification,
)

from golive.tasks.imaging.errors import DicomNetworkError
from golive.tasks.imaging.ingest import is_lossy
from golive.tasks.imaging.receiver import Received, pixel_hash, short_hash
from golive.tasks.imaging.tls import ClientTls, last_handshake_error

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Peer:
    """A DICOM peer; with `tls`, every association to it is TLS 1.2+ (PS3.15 Annex B)."""

    host: str
    port: int
    ae_title: str = "ANY-SCP"
    calling_ae: str = "GOLIVE"
    timeout_s: float = 30.0
    tls: ClientTls | None = None

    @property
    def tls_args(self) -> tuple[Any, str] | None:
        return None if self.tls is None else (self.tls.context, self.tls.server_name or self.host)

    @property
    def over(self) -> str:
        return "TLS" if self.tls is not None else "plain TCP"


@dataclass(frozen=True)
class EchoResult:
    ok: bool
    status: int
    round_trip_ms: float


@dataclass(frozen=True)
class SentInstance:
    sop_instance_uid: str
    series_instance_uid: str
    study_instance_uid: str
    patient_key: str
    transfer_syntax: str
    pixel_sha256: str
    status: int
    path: Path


@dataclass(frozen=True)
class SendReport:
    instances: tuple[SentInstance, ...]
    started_at: float
    finished_at: float

    @property
    def elapsed_s(self) -> float:
        return self.finished_at - self.started_at


@dataclass(frozen=True)
class TransferVerdict:
    passed: bool
    sent: int
    arrived: int
    missing: int
    changed: int
    lossy: int
    wrong_association: int
    arrival_s: float | None
    budget_s: float
    problems: tuple[str, ...] = field(default=())

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__} | {"problems": list(self.problems)}


def _associate(ae: AE, peer: Peer, **kwargs: Any):
    last_handshake_error(peer.tls)  # forget an earlier association's failure
    try:
        assoc = ae.associate(peer.host, peer.port, ae_title=peer.ae_title, tls_args=peer.tls_args, **kwargs)
    except Exception as exc:  # socket errors surface here on some platforms
        raise DicomNetworkError(f"{peer.host}:{peer.port}: cannot connect ({type(exc).__name__})") from exc
    if not assoc.is_established:
        raise DicomNetworkError(f"{peer.host}:{peer.port} ({peer.ae_title}, {peer.over}): association "
                                f"{_why_not(assoc, peer)}")
    return assoc


def _why_not(assoc: Any, peer: Peer) -> str:
    """Why an association was not established, in words (A-ASSOCIATE-RJ fields per PS3.8 Table 9-21)."""
    handshake = last_handshake_error(peer.tls)
    if handshake:
        return f"not established: {handshake}"
    if assoc.is_rejected:
        rsp = assoc.acceptor.primitive
        reason = getattr(rsp, "reason_str", "") if rsp is not None else ""
        kind = "transiently" if rsp is not None and rsp.result == 0x02 else ""
        return " ".join(x for x in ("rejected", kind, f"({reason})" if reason else "") if x)
    return "aborted" if assoc.is_aborted else "not answered"


def echo(peer: Peer) -> EchoResult:
    """C-ECHO the peer; raises DicomNetworkError when no association can be made."""
    ae = AE(ae_title=peer.calling_ae)
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = peer.timeout_s
    ae.add_requested_context(Verification)
    t0 = time.perf_counter()
    assoc = _associate(ae, peer)
    try:
        status = assoc.send_c_echo()
    finally:
        assoc.release()
    code = int(status.Status) if status is not None and "Status" in status else -1
    return EchoResult(code == 0, code, round((time.perf_counter() - t0) * 1000, 1))


def send_series(files: Sequence[Path | str], peer: Peer, held: Collection[str] = ()) -> SendReport:
    """C-STORE each file in its own transfer syntax (no transcoding: what is sent is what was read).

    `held`: SOP Instance UIDs the peer already holds (found by C-FIND on a resume): reported with
    status 0 and not sent again."""
    every: list[tuple[Path, Dataset]] = [(Path(f), pydicom.dcmread(f)) for f in files]
    datasets = [(p, ds) for p, ds in every if str(ds.SOPInstanceUID) not in held]
    if not datasets:
        now = time.time()
        return SendReport(tuple(_sent(path, ds, 0) for path, ds in every), now, now)
    ae = AE(ae_title=peer.calling_ae)
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = peer.timeout_s
    contexts = {}
    for _, ds in datasets:
        key = (str(ds.SOPClassUID), str(ds.file_meta.TransferSyntaxUID))
        contexts[key] = build_context(*key)
    if len(contexts) > 128:
        raise DicomNetworkError("too many distinct SOP class / transfer syntax pairs for one association")
    for cx in contexts.values():
        ae.add_requested_context(str(cx.abstract_syntax), cx.transfer_syntax)
    started = time.time()
    assoc = _associate(ae, peer)
    out = [_sent(path, ds, 0) for path, ds in every if str(ds.SOPInstanceUID) in held]
    try:
        for path, ds in datasets:
            code = -1  # not sent: the peer ended the association (an abort, e.g. over its size limit)
            if assoc.is_established:
                status = assoc.send_c_store(ds)
                code = int(status.Status) if status is not None and "Status" in status else -1
            out.append(_sent(path, ds, code))
    finally:
        assoc.release()
    report = SendReport(tuple(out), started, time.time())
    log.info("sent %d instance(s) in %.2fs", len(out), report.elapsed_s)
    return report


def _sent(path: Path, ds: Dataset, code: int) -> SentInstance:
    return SentInstance(str(ds.SOPInstanceUID), str(ds.get("SeriesInstanceUID", "")),
                        str(ds.get("StudyInstanceUID", "")), short_hash(str(ds.get("PatientID", ""))),
                        str(ds.file_meta.TransferSyntaxUID), pixel_hash(ds), code, path)


def query_instances(peer: Peer, study_uid: str, series_uid: str) -> list[str]:
    """C-FIND (study root, IMAGE level) for the SOP Instance UIDs a peer holds for one series."""
    ae = AE(ae_title=peer.calling_ae)
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = peer.timeout_s
    ae.add_requested_context(StudyRootQueryRetrieveInformationModelFind)
    q = Dataset()
    q.QueryRetrieveLevel = "IMAGE"
    q.StudyInstanceUID = study_uid
    q.SeriesInstanceUID = series_uid
    q.SOPInstanceUID = ""
    assoc = _associate(ae, peer)
    uids = []
    try:
        for status, ident in assoc.send_c_find(q, StudyRootQueryRetrieveInformationModelFind):
            if status is None:
                raise DicomNetworkError(f"{peer.host}:{peer.port}: C-FIND got no answer")
            if status.Status in (0xFF00, 0xFF01) and ident is not None:
                uids.append(str(ident.get("SOPInstanceUID", "")))
            elif status.Status not in (0x0000, 0xFF00, 0xFF01):
                raise DicomNetworkError(f"{peer.host}:{peer.port}: C-FIND failed with status 0x{status.Status:04X}")
    finally:
        assoc.release()
    return uids


def retrieve_series(peer: Peer, study_uid: str, series_uid: str, sop_classes: Iterable[str],
                    transfer_syntaxes: Iterable[str], arrived_at: float) -> list[Received]:
    """C-GET a series back from a peer (in memory) to hash its pixels as the peer stores them.

    `arrived_at` stamps the records (the time the peer was seen to hold the whole series), so the
    verdict's timing is the arrival, not this retrieval.
    """
    ae = AE(ae_title=peer.calling_ae)
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = peer.timeout_s
    ae.add_requested_context(StudyRootQueryRetrieveInformationModelGet)
    syntaxes = list(dict.fromkeys([*transfer_syntaxes, "1.2.840.10008.1.2.1", "1.2.840.10008.1.2"]))
    classes = list(dict.fromkeys(sop_classes))
    for uid in classes:
        ae.add_requested_context(uid, syntaxes)
    roles: list[Any] = [build_role(uid, scp_role=True) for uid in classes]
    got: list[Received] = []

    def on_store(event: evt.Event) -> int:
        ds = event.dataset
        ds.file_meta = event.file_meta
        got.append(Received(str(ds.SOPInstanceUID), str(ds.get("SeriesInstanceUID", "")),
                            str(ds.get("StudyInstanceUID", "")), short_hash(str(ds.get("PatientID", ""))),
                            str(event.file_meta.TransferSyntaxUID), pixel_hash(ds), arrived_at, Path("-"),
                            peer.ae_title))
        return 0x0000

    q = Dataset()
    q.QueryRetrieveLevel = "SERIES"
    q.StudyInstanceUID = study_uid
    q.SeriesInstanceUID = series_uid
    assoc = _associate(ae, peer, ext_neg=roles, evt_handlers=[(evt.EVT_C_STORE, on_store)])
    try:
        for status, _ in assoc.send_c_get(q, StudyRootQueryRetrieveInformationModelGet):
            if status is None:
                raise DicomNetworkError(f"{peer.host}:{peer.port}: C-GET got no answer")
            if status.Status not in (0x0000, 0xFF00, 0xB000):
                raise DicomNetworkError(f"{peer.host}:{peer.port}: C-GET failed with status 0x{status.Status:04X}")
    finally:
        assoc.release()
    return got


def verify_transfer(report: SendReport, received: Iterable[Received], budget_s: float) -> TransferVerdict:
    """Whole, unchanged, lossless, right association, on time: the playbook's Imaging Data Flow checks."""
    by_uid = {r.sop_instance_uid: r for r in received}
    problems = []
    missing = changed = lossy = wrong = 0
    last = None
    for s in report.instances:
        r = by_uid.get(s.sop_instance_uid)
        if s.status != 0 or r is None:
            missing += 1
            continue
        last = r.arrived_at if last is None else max(last, r.arrived_at)
        if r.pixel_sha256 != s.pixel_sha256:
            changed += 1
        if is_lossy(r.transfer_syntax):
            lossy += 1
        if (r.patient_key, r.study_instance_uid, r.series_instance_uid) != \
                (s.patient_key, s.study_instance_uid, s.series_instance_uid):
            wrong += 1
    arrival = None if last is None else round(last - report.started_at, 3)
    if missing:
        problems.append(f"{missing} of {len(report.instances)} instance(s) did not arrive")
    if changed:
        problems.append(f"{changed} instance(s) arrived with different pixel data")
    if lossy:
        problems.append(f"{lossy} instance(s) arrived in a lossy transfer syntax")
    if wrong:
        problems.append(f"{wrong} instance(s) arrived under another patient/study/series")
    if arrival is not None and arrival > budget_s:
        problems.append(f"arrival took {arrival:.1f}s, budget {budget_s:.0f}s")
    if not report.instances:
        problems.append("nothing was sent")
    return TransferVerdict(not problems, len(report.instances), len(report.instances) - missing, missing,
                           changed, lossy, wrong, arrival, budget_s, tuple(problems))
