"""Shared helpers for the compliance tests: certificates made with `cryptography`, local TLS servers
(good, expired, self-signed, TLS 1.0-only), and the evidence that makes a location's PHI
prerequisites complete."""

from __future__ import annotations

import socket
import ssl
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from golive.tasks.compliance.simulators.pki import Ca, Pem, make_ca, make_leaf

__all__ = ["Ca", "Pem", "TlsServer", "make_ca", "make_leaf", "seed_phi_prerequisites", "seed_run_store", "tls_server"]


class TlsServer:
    """A real TLS listener on 127.0.0.1 (port chosen by the OS): it completes handshakes and hangs up."""

    def __init__(self, pem: Pem, *, tls10_only: bool = False) -> None:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        if tls10_only:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                ctx.minimum_version = ssl.TLSVersion.TLSv1
                ctx.maximum_version = ssl.TLSVersion.TLSv1
            ctx.set_ciphers("DEFAULT:@SECLEVEL=0")  # OpenSSL 3 has no TLS 1.0 cipher above level 0
        ctx.load_cert_chain(pem.cert, pem.key)
        self._ctx = ctx
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._sock.getsockname()[1])
        self.handshakes: list[str] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            threading.Thread(target=self._one, args=(conn,), daemon=True).start()

    def _one(self, conn: socket.socket) -> None:
        conn.settimeout(10)
        try:
            with self._ctx.wrap_socket(conn, server_side=True) as tls:
                self.handshakes.append(str(tls.version()))
                tls.recv(1)
        except (ssl.SSLError, OSError):
            conn.close()

    def close(self) -> None:
        try:
            self._sock.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept() (close alone does not, on Linux)
        except OSError:
            pass
        self._sock.close()
        self._thread.join(timeout=5)


@contextmanager
def tls_server(pem: Pem, *, tls10_only: bool = False) -> Iterator[TlsServer]:
    server = TlsServer(pem, tls10_only=tls10_only)
    try:
        yield server
    finally:
        server.close()


def seed_phi_prerequisites(store: Any, location: str, tmp: Path, *, skip: tuple[str, ...] = (),
                           today: date | None = None) -> None:
    """Evidence that completes every PHI prerequisite for `location` (except the `skip`ped ones)."""
    from golive.tasks.compliance import evidence
    from golive.tasks.compliance.requirements import REQUIREMENTS, Check

    day = today or datetime.now(UTC).date()
    root = tmp / "evidence-store"
    for req in REQUIREMENTS:
        if not req.before_phi or req.id in skip:
            continue
        if req.document is not None:
            doc = tmp / f"{req.id}.txt"
            doc.write_text(f"evidence for {req.id}\n")
            evidence.record_document(store, subject=req.id, file=doc, supplied_by="Test Person", role="Legal",
                                     supplied_on=day - timedelta(days=1),
                                     expires_on=day + timedelta(days=365) if req.attestation else None, root=root)
        if req.check is not None:
            where = location if req.check in (Check.ACCESS_MATRIX, Check.MFA) else ""
            evidence.record_check(store, subject=req.id, passed=True, report={"seeded": True}, location=where,
                                  root=root)


def seed_run_store(location: str, tmp: Path, *, skip: tuple[str, ...] = ()) -> None:
    """`seed_phi_prerequisites` in the store runs will use (GOLIVE_HOME / GOLIVE_DATABASE_URL, as set)."""
    from golive.tasks.store import Store

    store = Store.open()
    try:
        seed_phi_prerequisites(store, location, tmp, skip=skip)
    finally:
        store.dispose()
