"""A DICOM receiver (pynetdicom C-ECHO + C-STORE SCP) that enforces a location's receiver policy.

Each stored instance is written as received (its transfer syntax kept) under
`out_dir/<series key>/<n>.dcm` and recorded with its arrival time and a pixel hash, so a sender can
prove the series arrived whole, unchanged and on time. Identifiers are hashed before logging.

What the policy (`policy.py`) decides, and where on the wire it is applied:
- source network: when the TCP connection is accepted, before a byte is read (closed, no reply);
- TLS: a location with TLS gets a TLS-only listener; the handshake runs in the connection's own
  thread (pynetdicom would run it in the accept loop, where one silent client stalls every other),
  and a plain A-ASSOCIATE-RQ arriving there gets an A-ASSOCIATE-RJ, never a TLS session;
- calling/called AE title, disk-space floor, today's total: on the A-ASSOCIATE-RQ, answered with
  an A-ASSOCIATE-RJ (pynetdicom's EVT_REQUESTED hook, as its ACSE does for its own checks);
- SOP classes: only the policy's storage classes are offered, others' presentation contexts are
  rejected in negotiation (and recorded);
- size: every socket read is counted, and an association passing its own or the day's limit is
  aborted mid-transfer (nothing of the unfinished object is kept).
Every refusal is logged and audited (calling AE, source address, reason; never PHI), and repeated
refusals of one source for one reason are audited at most once a minute (with the count), so a
scanner hammering the port cannot flood the audit log.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import socket
import socketserver
import ssl
import struct
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import numpy as np
from pydicom.dataset import Dataset
from pydicom.uid import UID
from pynetdicom import AE, ALL_TRANSFER_SYNTAXES, evt
from pynetdicom.sop_class import Verification  # type: ignore[attr-defined]
from pynetdicom.transport import ThreadedAssociationServer

from golive.tasks.imaging.errors import DicomNetworkError
from golive.tasks.imaging.policy import (
    REJECT_CODES,
    AssociationRequest,
    Decision,
    ReceiverPolicy,
    RefusalReason,
    loopback_default,
)
from golive.tasks.imaging.tls import Env, handshake_decision, server_context
from golive.tasks.imaging.usage import DailyUsage, MemoryLedger, UsageLedger

log = logging.getLogger(__name__)

AuditFn = Callable[[str, Mapping[str, Any]], object]
REFUSED_EVENT = "imaging.dicom_refused"
ASSOCIATION_EVENT = "imaging.dicom_association"
_ABORT_PDU = bytes([0x07, 0, 0, 0, 0, 4, 0, 0, 0, 0])  # A-ABORT, service-user initiated (PS3.8 9.3.8)
_TLS_RECORD_HANDSHAKE = 0x16
_ASSOCIATE_RQ = 0x01


def short_hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:10]


def pixel_hash(ds: Dataset) -> str:
    """SHA-256 of the pixel values: raw bytes for native syntaxes, decoded values for encapsulated ones.

    Lossless recompression keeps the hash; any change of a pixel value (or lossy coding) changes it.
    """
    ts = UID(str(ds.file_meta.get("TransferSyntaxUID", "1.2.840.10008.1.2"))) if hasattr(ds, "file_meta") \
        else UID("1.2.840.10008.1.2")
    if "PixelData" not in ds:
        return ""
    if not ts.is_compressed and ts.is_little_endian:
        n = int(ds.Rows) * int(ds.Columns) * int(ds.get("SamplesPerPixel", 1)) * (int(ds.BitsAllocated) // 8) \
            * int(ds.get("NumberOfFrames", 1) or 1)
        return hashlib.sha256(bytes(ds.PixelData[:n])).hexdigest()
    arr = np.ascontiguousarray(ds.pixel_array)
    return hashlib.sha256(arr.astype(arr.dtype.newbyteorder("<")).tobytes()).hexdigest()


@dataclass(frozen=True)
class Received:
    sop_instance_uid: str
    series_instance_uid: str
    study_instance_uid: str
    patient_key: str  # hash of PatientID: compare, never show
    transfer_syntax: str
    pixel_sha256: str
    arrived_at: float  # time.time()
    path: Path
    calling_ae: str


@dataclass(frozen=True)
class Refusal:
    """One refusal as audited and shown: who (AE title, address), where, why. No PHI."""

    at: str
    location: str
    listener: str  # "tls:2762" or "plain:11112"
    source: str
    calling_ae: str  # "" when refused before the association request was read
    reason: RefusalReason
    detail: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self) | {"reason": self.reason.value}


def printable_ae(value: object) -> str:
    """An AE title as a peer sent it, made safe to log (16 printable ASCII characters at most)."""
    text = value.decode("ascii", "replace") if isinstance(value, bytes) else str(value)
    return "".join(c if " " <= c <= "~" else "?" for c in text).strip()[:16]


@dataclass
class _Session:
    """One TCP connection: what was learned about the peer and how much it sent."""

    source: str
    listener: str
    tls: str = ""  # negotiated protocol and cipher, "" for plain
    peer_certificate: str = ""  # the client certificate's subject CN, when one was checked
    calling_ae: str = ""
    nbytes: int = 0
    settled: int = 0
    objects: int = 0
    unsettled_objects: int = 0
    accepted: bool = False
    refused: Decision | None = None  # set when the connection is being stopped
    noted: set[RefusalReason] = field(default_factory=set)  # refusals already recorded for this session
    closed: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)


class _Refused(Exception):
    """Internal: the connection was refused and is to be closed."""


_aborting = threading.local()  # set on a DUL thread whose association the policy stopped


class _QuietPolicyAborts(logging.Filter):
    """pynetdicom logs a stopped association's read as an error with a traceback; the receiver has
    already logged why it stopped it, so those records (on that thread only) are dropped."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not getattr(_aborting, "active", False)


_QUIET = _QuietPolicyAborts()


class _Metered:
    """Socket mixin: every read is charged to the connection's session and the day's total.

    (`golive_session`, not `session`: SSLSocket.session is the TLS session.)
    """

    golive_session: _Session
    receiver: Receiver

    def recv(self, size: int = 1024, flags: int = 0, /) -> bytes:
        if self.golive_session.refused is not None:
            raise ConnectionAbortedError("refused by the receiver policy")
        data: bytes = super().recv(size, flags)  # type: ignore[misc]
        if data and not self.receiver.charge(self.golive_session, len(data)):
            try:
                super().sendall(_ABORT_PDU)  # type: ignore[misc]
            except OSError:
                pass
            _aborting.active = True
            raise ConnectionAbortedError("refused by the receiver policy")
        return data


class _MeteredSocket(_Metered, socket.socket):
    pass


class _MeteredSSLSocket(_Metered, ssl.SSLSocket):  # type: ignore[misc]  # recv's parameter names differ
    pass


class _PolicyServer(ThreadedAssociationServer):
    """pynetdicom's threaded server with the policy's connection-level checks."""

    def __init__(self, *args: Any, receiver: Receiver, tls: ssl.SSLContext | None, **kwargs: Any) -> None:
        self.receiver = receiver
        self.tls = tls
        super().__init__(*args, **kwargs)

    @property
    def listener(self) -> str:
        return f"{'tls' if self.tls else 'plain'}:{self.server_address[1]}"

    def get_request(self) -> tuple[socket.socket, Any]:
        assert self.socket is not None
        return self.socket.accept()  # no TLS here: the handshake runs in the connection's thread

    def verify_request(self, request: Any, client_address: Any) -> bool:
        decision = self.receiver.policy.source_decision(str(client_address[0]))
        if decision is not None:
            self.receiver.refuse(None, decision, source=str(client_address[0]), listener=self.listener)
            return False
        return True

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        session = _Session(source=str(client_address[0]), listener=self.listener)
        try:
            sock = self._secure(request, session) if self.tls else self._adopt(request, session)
        except _Refused:
            _close(request)
            return
        except OSError as exc:  # the peer went away mid-handshake
            log.debug("connection from %s closed before an association: %s", session.source, exc)
            _close(request)
            return
        super().process_request_thread(sock, client_address)

    def _adopt(self, raw: socket.socket, session: _Session) -> socket.socket:
        sock = _MeteredSocket(raw.family, raw.type, raw.proto, fileno=raw.detach())
        sock.golive_session, sock.receiver = session, self.receiver
        return sock

    def _secure(self, raw: socket.socket, session: _Session) -> ssl.SSLSocket:
        assert self.tls is not None
        raw.settimeout(self.receiver.handshake_timeout_s)
        first = raw.recv(1, socket.MSG_PEEK)
        if not first:
            raise _Refused  # connected and closed without a word (a port probe): nothing to record
        if first[0] == _ASSOCIATE_RQ:
            self._reject_plain(raw, session)
        sock = self.tls.wrap_socket(raw, server_side=True, do_handshake_on_connect=False)
        assert isinstance(sock, _MeteredSSLSocket)
        sock.golive_session, sock.receiver = session, self.receiver
        try:
            sock.do_handshake()
        except (ssl.SSLError, TimeoutError) as exc:
            self.receiver.refuse(session, handshake_decision(exc, peer="client"))
            _close(sock)
            raise _Refused from None
        sock.settimeout(None)
        cipher = sock.cipher()
        session.tls = f"{sock.version()} {cipher[0] if cipher else ''}".strip()
        session.peer_certificate = _subject_cn(sock.getpeercert())
        return sock

    def _reject_plain(self, raw: socket.socket, session: _Session) -> None:
        """A plain association on the TLS port: read its request, answer A-ASSOCIATE-RJ, close.

        The refusal is recorded before the answer goes out, so a sender that reads the RJ finds it.
        """
        try:
            header = _recv_exactly(raw, 6)
            body = _recv_exactly(raw, min(struct.unpack(">L", header[2:])[0], 1 << 16)) if len(header) == 6 else b""
            session.calling_ae = printable_ae(body[20:36])  # PS3.8 9.3.2: calling AE title, PDU bytes 27-42
        except OSError:
            pass
        self.receiver.refuse(session, Decision(
            RefusalReason.TLS_REQUIRED,
            f"a plain (unencrypted) association on the TLS port; {self.receiver.policy.location} accepts TLS only"))
        try:
            raw.sendall(struct.pack(">BBLBBBB", 0x03, 0, 4, 0, *REJECT_CODES[RefusalReason.TLS_REQUIRED]))
            raw.shutdown(socket.SHUT_WR)  # closing with unread bytes would reset the RJ away: let the peer hang up
            drained, deadline = 0, time.monotonic() + 5.0  # bounded: a peer that never hangs up is cut off
            raw.settimeout(1.0)
            while drained < 1 << 20 and time.monotonic() < deadline and (chunk := raw.recv(4096)):
                drained += len(chunk)
        except OSError:
            pass
        raise _Refused

    def shutdown_request(self, request: Any) -> None:
        session = getattr(request, "golive_session", None)
        if isinstance(session, _Session):
            self.receiver.close_session(session)
        super().shutdown_request(request)

    def shutdown(self) -> None:
        # pynetdicom's shutdown also removes the server from its AE's private list; ours is not there
        socketserver.BaseServer.shutdown(self)
        self.server_close()


def _recv_exactly(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            break
        data += chunk
    return data


def _close(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()


def _subject_cn(cert: Mapping[str, Any] | None) -> str:
    for rdn in (cert or {}).get("subject", ()):
        for key, value in rdn:
            if key == "commonName":
                return str(value)[:64]
    return ""


class _AuditThrottle:
    """At most one audit entry a minute per (source, reason); the next one carries the count skipped."""

    WINDOW_S = 60.0

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        self._last: dict[tuple[str, str], tuple[float, int]] = {}

    def admit(self, source: str, reason: str) -> int | None:
        """None: skip this one; else how many were skipped before it."""
        now = self.clock()
        with self._lock:
            if len(self._last) > 10_000:  # many sources (a scan): forget those quiet for a window
                self._last = {k: v for k, v in self._last.items() if now - v[0] < self.WINDOW_S}
            last, skipped = self._last.get((source, reason), (float("-inf"), 0))
            if now - last < self.WINDOW_S:
                self._last[(source, reason)] = (last, skipped + 1)
                return None
            self._last[(source, reason)] = (now, 0)
            return skipped


class Receiver:
    """Run with `with Receiver(out_dir, port=0) as r:` (port 0 picks a free port: `r.port`).

    Without `policy`, the loopback-only default applies (`policy.loopback_default`). `host`, `port`
    and `tls_port` override the policy's listening address (tests and the stand-in receiver use
    loopback and port 0). `audit` receives refusals and association summaries (`ctx.audit`, or the
    store's audit log); `ledger` keeps the per-day totals (the store's, else in memory);
    `free_disk` and `clock` are injectable so tests can reach the floor and midnight.
    """

    def __init__(self, out_dir: Path | str, port: int | None = None, host: str | None = None,
                 ae_title: str | None = None, *, policy: ReceiverPolicy | None = None, tls_port: int | None = None,
                 audit: AuditFn | None = None, ledger: UsageLedger | None = None,
                 free_disk: Callable[[Path], int] | None = None, clock: Callable[[], datetime] | None = None,
                 env: Env = os.environ.get, handshake_timeout_s: float = 30.0) -> None:
        self.out_dir = Path(out_dir)
        self.policy = policy or loopback_default(ae_title=ae_title or "GOLIVE")
        self.host = host or self.policy.bind
        self.ae_title = ae_title or self.policy.ae_title
        self.requested_port = self.policy.port if port is None else port
        self.requested_tls_port = (self.policy.tls.port if self.policy.tls else 0) if tls_port is None else tls_port
        self.audit = audit or (lambda event, data: None)
        self.free_disk = free_disk or (lambda p: shutil.disk_usage(p).free)
        self.clock = clock or (lambda: datetime.now(UTC))
        self.env = env
        self.handshake_timeout_s = handshake_timeout_s
        self._ledger = ledger or MemoryLedger()
        self._daily: DailyUsage | None = None
        self._lock = threading.Lock()
        self._records: list[Received] = []
        self._refusals: deque[Refusal] = deque(maxlen=1000)
        self._throttle = _AuditThrottle()
        self._servers: list[_PolicyServer] = []
        self._n = 0

    # -- what tests and callers read --------------------------------------------------------

    @property
    def plain_port(self) -> int | None:
        return next((int(s.server_address[1]) for s in self._servers if s.tls is None), None)

    @property
    def tls_port(self) -> int | None:
        return next((int(s.server_address[1]) for s in self._servers if s.tls is not None), None)

    @property
    def port(self) -> int:
        """The plain port, or the TLS port where TLS is required (no plain listener)."""
        if not self._servers:
            return self.requested_port
        return self.plain_port if self.plain_port is not None else int(self.tls_port or 0)

    @property
    def received(self) -> list[Received]:
        with self._lock:
            return list(self._records)

    @property
    def refusals(self) -> list[Refusal]:
        with self._lock:
            return list(self._refusals)

    # -- policy on the wire ----------------------------------------------------------------

    def refuse(self, session: _Session | None, decision: Decision, *, source: str = "", listener: str = "",
               stops: bool = True) -> None:
        """Record a refusal: the receiver's log, its list, and (throttled) the audit log.

        `stops`: the connection ends (its next read fails); else only one object or context was
        refused and the association goes on. Each reason is recorded once per connection.
        """
        if session is not None:
            if stops:
                session.refused = session.refused or decision
            if decision.reason in session.noted:
                return
            session.noted.add(decision.reason)
        refusal = Refusal(
            at=self.clock().isoformat(timespec="seconds"), location=self.policy.location,
            listener=session.listener if session else listener, source=session.source if session else source,
            calling_ae=session.calling_ae if session else "", reason=decision.reason, detail=decision.detail)
        with self._lock:
            self._refusals.append(refusal)
        who = f"AE {refusal.calling_ae!r} at {refusal.source}" if refusal.calling_ae else refusal.source
        log.warning("refused %s on %s: %s (%s)", who, refusal.listener, decision.detail, decision.reason.value)
        skipped = self._throttle.admit(refusal.source, decision.reason.value)
        if skipped is not None:
            self.audit(REFUSED_EVENT, refusal.as_dict() | ({"skipped_since_last": skipped} if skipped else {}))

    def charge(self, session: _Session, nbytes: int) -> bool:
        """Count bytes read; False (and the refusal recorded) once a size limit is passed."""
        assert self._daily is not None
        with session.lock:
            session.nbytes += nbytes
            association = session.nbytes
        day = self._daily.charge(nbytes)
        # Before acceptance only the request is read; a day already used up is answered there with an RJ.
        decision = self.policy.size_decision(association, day if session.accepted else 0)
        if decision is not None:
            self.refuse(session, decision)
        return decision is None

    def _settle(self, session: _Session) -> None:
        assert self._daily is not None
        with session.lock:
            delta, objects = session.nbytes - session.settled, session.unsettled_objects
            session.settled, session.unsettled_objects = session.nbytes, 0
        try:
            self._daily.settle(delta, objects)
        except Exception:  # the ledger is the store: a write failure must not kill the association
            log.exception("the daily usage ledger could not be updated")

    def close_session(self, session: _Session) -> None:
        with session.lock:
            if session.closed:
                return
            session.closed = True
        self._settle(session)
        if session.accepted:
            summary = {"location": self.policy.location, "listener": session.listener, "source": session.source,
                       "calling_ae": session.calling_ae, "tls": session.tls or "none",
                       "client_certificate": session.peer_certificate, "objects": session.objects,
                       "bytes": session.nbytes,
                       "outcome": "aborted: " + session.refused.reason.value if session.refused else "completed"}
            log.info("association from AE %r at %s on %s (%s): %d object(s), %.1f MB, %s", session.calling_ae,
                     session.source, session.listener, session.tls or "plain", session.objects,
                     session.nbytes / 1e6, summary["outcome"])
            try:
                self.audit(ASSOCIATION_EVENT, summary)
            except Exception:
                log.exception("an association summary could not be audited")

    def _session(self, assoc: Any) -> _Session | None:
        found = getattr(assoc, "golive_session", None)
        if found is None:
            sock = getattr(getattr(assoc.dul, "socket", None), "socket", None)
            found = getattr(sock, "golive_session", None)
            assoc.golive_session = found
        return found

    def _on_open(self, event: evt.Event) -> None:
        self._session(event.assoc)  # remember the session while the socket is still attached

    def _on_requested(self, event: evt.Event) -> None:
        assoc = event.assoc
        session = self._session(assoc)
        rq = assoc.requestor.primitive
        assert rq is not None  # EVT_REQUESTED fires once the A-ASSOCIATE-RQ is in
        calling = printable_ae(rq.calling_ae_title)
        if session is None:  # not one of our sockets: cannot happen, refuse rather than guess
            assoc.acse.send_reject(0x01, 0x01, 0x01)
            assoc.kill()
            return
        session.calling_ae = calling
        assert self._daily is not None
        decision = self.policy.association_decision(AssociationRequest(
            calling_ae=calling, called_ae=printable_ae(rq.called_ae_title), source=session.source,
            tls=bool(session.tls), free_disk_bytes=self.free_disk(self.out_dir), day_bytes=self._daily.refresh()))
        if decision is None:
            return
        self.refuse(session, decision)
        assoc.acse.send_reject(*REJECT_CODES[decision.reason])
        assoc.kill()  # as pynetdicom's ACSE does after its own rejections: waits for the RJ to go out

    def _on_accepted(self, event: evt.Event) -> None:
        """Record SOP classes refused in negotiation when nothing the sender offered is accepted.

        Many senders (DCMTK's storescu by default) offer every storage class they know and send
        only some, so a refused context alone is no refusal of a transfer; an association whose
        storage offers were all refused is one.
        """
        session = self._session(event.assoc)
        if session is None:
            return
        session.accepted = True
        verification = str(Verification)
        refused = sorted({str(cx.abstract_syntax) for cx in event.assoc.rejected_contexts} - {verification})
        accepted = {str(cx.abstract_syntax) for cx in event.assoc.accepted_contexts} - {verification}
        if not refused:
            return
        if accepted:
            log.debug("%d SOP class(es) offered by %r not accepted", len(refused), session.calling_ae)
            return
        shown = ", ".join(UID(u).name or u for u in refused[:3]) + (f" (+{len(refused) - 3} more)" if len(refused) > 3 else "")
        takes = ", ".join(UID(u).name or u for u in self.policy.sop_classes)
        self.refuse(session, Decision(RefusalReason.SOP_CLASS,
                                      f"none of the SOP classes offered is accepted at {self.policy.location}: "
                                      f"{shown}; it accepts {takes}"), stops=False)

    def _on_echo(self, event: evt.Event) -> int:
        return 0x0000

    def _on_store(self, event: evt.Event) -> int:
        session = self._session(event.assoc)
        disk = self.policy.disk_decision(self.free_disk(self.out_dir))
        if disk is not None:
            if session is not None:
                self.refuse(session, disk, stops=False)
            return 0xA700  # Refused: Out of Resources (PS3.4 Table B.2-1)
        try:
            ds = event.dataset
            ds.file_meta = event.file_meta
        except Exception:
            log.exception("a C-STORE dataset could not be decoded")
            return 0xC210
        series = str(ds.get("SeriesInstanceUID", ""))
        folder = self.out_dir / ("series-" + short_hash(series))
        folder.mkdir(parents=True, exist_ok=True)
        with self._lock:
            self._n += 1
            n = self._n
        path = folder / f"{n:06d}.dcm"
        try:
            ds.save_as(path, enforce_file_format=True)
            digest = pixel_hash(ds)
        except Exception:
            log.exception("an instance could not be stored")
            return 0xA700
        rec = Received(
            sop_instance_uid=str(ds.get("SOPInstanceUID", "")), series_instance_uid=series,
            study_instance_uid=str(ds.get("StudyInstanceUID", "")),
            patient_key=short_hash(str(ds.get("PatientID", ""))),
            transfer_syntax=str(ds.file_meta.TransferSyntaxUID), pixel_sha256=digest,
            arrived_at=time.time(), path=path, calling_ae=printable_ae(event.assoc.requestor.ae_title))
        with self._lock:
            self._records.append(rec)
        if session is not None:
            with session.lock:
                session.objects += 1
                session.unsettled_objects += 1
            self._settle(session)
        return 0x0000

    def _on_close(self, event: evt.Event) -> None:
        session = self._session(event.assoc)
        if session is not None:
            self.close_session(session)

    # -- life cycle ---------------------------------------------------------------------------

    def start(self) -> Receiver:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        dul_log = logging.getLogger("pynetdicom.dul")
        if _QUIET not in dul_log.filters:
            dul_log.addFilter(_QUIET)
        self._daily = DailyUsage(self._ledger, self.policy.location, self.policy.timezone, self.clock)
        tls = None
        if self.policy.tls is not None:
            tls = server_context(self.policy.tls, self.env)
            tls.sslsocket_class = _MeteredSSLSocket
        ae = AE(ae_title=self.ae_title)
        ae.add_supported_context(Verification)
        for uid in self.policy.sop_classes:
            ae.add_supported_context(uid, ALL_TRANSFER_SYNTAXES)
        ae.maximum_pdu_size = 0
        handlers: list[Any] = [(evt.EVT_CONN_OPEN, self._on_open), (evt.EVT_REQUESTED, self._on_requested),
                    (evt.EVT_ACCEPTED, self._on_accepted), (evt.EVT_C_ECHO, self._on_echo),
                    (evt.EVT_C_STORE, self._on_store), (evt.EVT_CONN_CLOSE, self._on_close)]
        listeners: list[tuple[int, ssl.SSLContext | None]] = []
        if tls is not None:
            listeners.append((self.requested_tls_port, tls))
        if not self.policy.tls_required:
            listeners.append((self.requested_port, None))
        try:
            for port, context in listeners:
                server = cast(_PolicyServer, ae.make_server(
                    (self.host, port), evt_handlers=handlers, server_class=_PolicyServer, receiver=self, tls=context))
                threading.Thread(target=server.serve_forever, name=f"golive-dicom-{server.listener}",
                                 daemon=True).start()
                self._servers.append(server)
        except OSError as exc:
            self.stop()
            raise DicomNetworkError(f"cannot listen on {self.host}: {exc.strerror or exc}") from None
        log.info("DICOM receiver for %s as %s on %s (%s)", self.policy.location, self.ae_title,
                 ", ".join(f"{self.host}:{s.server_address[1]} {'TLS' if s.tls else 'plain'}" for s in self._servers),
                 "TLS required" if self.policy.tls_required else "plain allowed")
        return self

    def stop(self) -> None:
        for server in self._servers:
            server.shutdown()
        self._servers = []

    def __enter__(self) -> Receiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def receive(out_dir: Path | str, policy: ReceiverPolicy, *, stop: threading.Event, port: int | None = None,
            audit: AuditFn | None = None, ledger: UsageLedger | None = None) -> Receiver:
    """Run a receiver until `stop` is set (the `golive imaging receive` command sets it on a signal)."""
    with Receiver(out_dir, port=port, policy=policy, audit=audit, ledger=ledger) as r:
        stop.wait()
    log.info("receiver stopped after %d instance(s), %d refusal(s)", len(r.received), len(r.refusals))
    return r
