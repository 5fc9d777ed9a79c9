"""DICOM transport security in runs: the stand-in receiver under the location's policy, the
intraoral upload limits, and `imaging.transport_check` (the policy against the playbook's
transmission-security row, and the refusals golive's receivers recorded).

The stand-in: integration-validation's echo and send steps, given no endpoint host, send to the
bundled receiver. It enforces the location's `dicom_receiver` policy (allowed AE titles and
networks, TLS, SOP classes, size limits, disk floor) exactly as `golive imaging receive` does,
except where it listens: on loopback, on ports of its own choosing, since it runs inside the
validation. A location without a policy gets the loopback-only default. Refusals reach the run's
audit log and the step's error.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from golive.tasks.context import StepContext
from golive.tasks.foundation.durations import parse_duration
from golive.tasks.foundation.errors import StepFailed
from golive.tasks.imaging.network import Peer
from golive.tasks.imaging.policy import MB, ReceiverPolicy, loopback_default, policy_for
from golive.tasks.imaging.receiver import REFUSED_EVENT, Receiver
from golive.tasks.imaging.tls import TlsConfigError, certificate_expiry, client_tls, server_context
from golive.tasks.imaging.upload import Admission, admit_upload
from golive.tasks.imaging.usage import MemoryLedger, StoreLedger, UsageLedger
from golive.tasks.kind import StepKind
from golive.tasks.store.models import AuditEntryRow

LOOPBACK = "127.0.0.1"
CERT_WARNING_DAYS = 30


class TransportCheckFailed(StepFailed):
    """The location's DICOM receiver policy falls short of the transmission-security requirement."""


def step_policy(ctx: StepContext, params: dict[str, Any]) -> ReceiverPolicy:
    """The policy of the step's `location` (its organization block), else the loopback default."""
    location = str(params.get("location") or "")
    return policy_for(ctx.org, location) or loopback_default(location=location or "local")


def step_ledger(ctx: StepContext) -> UsageLedger:
    return StoreLedger(ctx.store) if ctx.store is not None else MemoryLedger()


@contextmanager
def stand_in(ctx: StepContext, params: dict[str, Any], folder: str) -> Iterator[tuple[Receiver, Peer]]:
    """A running stand-in receiver and the peer that reaches it as the step's sender would.

    A sender with `tls` uses the TLS listener; one without uses the plain listener, or, where the
    location requires TLS, the TLS port in plain, which the receiver refuses (the validation then
    fails with that reason, as a plain sender at the location would).
    """
    policy = step_policy(ctx, params)
    tls = client_tls(dict(params.get("tls") or {}), LOOPBACK)
    if tls is not None and policy.tls is None:
        raise StepFailed(f"the step sends over TLS, but {policy.location}'s receiver policy has no TLS "
                         "(add `tls:` to its dicom_receiver block)")
    receiver = Receiver(Path(ctx.out_dir) / "imaging" / folder, port=0, tls_port=0, host=LOOPBACK, policy=policy,
                        audit=ctx.audit, ledger=step_ledger(ctx))
    with receiver as r:
        port = r.tls_port if tls is not None or r.plain_port is None else r.plain_port
        yield r, Peer(LOOPBACK, int(port or 0), r.ae_title, str(params.get("calling_ae", "GOLIVE")),
                      float(params.get("timeout_s", 30)), tls)


def refusal_note(receiver: Receiver) -> str:
    """What the stand-in refused, for a step's error ('' when nothing was)."""
    refusals = receiver.refusals
    if not refusals:
        return ""
    return "; the stand-in receiver refused it: " + "; ".join(f"{r.detail} ({r.reason.value})" for r in refusals)


def admit_scan(ctx: StepContext, params: dict[str, Any], path: Path | str) -> Admission:
    """An intraoral scan file under the step's location's type and size limits (raises UploadRefused)."""
    return admit_upload(path, step_policy(ctx, params), step_ledger(ctx), audit=ctx.audit)


# --- imaging.transport_check --------------------------------------------------------------------


def recent_refusals(store: Any, location: str, since: datetime, limit: int = 50) -> tuple[list[dict[str, Any]], Counter[str]]:
    """The location's audited refusals since `since`: the newest `limit`, and a count per reason."""
    if store is None:
        return [], Counter()
    stmt = (select(AuditEntryRow.data).where(AuditEntryRow.event == REFUSED_EVENT,
                                              AuditEntryRow.ts >= since.astimezone(UTC).isoformat(timespec="microseconds"))
            .order_by(AuditEntryRow.seq.desc()))
    rows: list[dict[str, Any]] = []
    counts: Counter[str] = Counter()
    with store.session(readonly=True) as s:
        for text in s.scalars(stmt):
            data = json.loads(text)
            if data.get("location") != location:
                continue
            counts[str(data.get("reason"))] += 1 + int(data.get("skipped_since_last", 0))
            if len(rows) < limit:
                rows.append({k: data.get(k, "") for k in ("at", "source", "calling_ae", "listener", "reason", "detail")})
    return rows, counts


def run_transport_check(ctx: StepContext, params: dict[str, Any]) -> dict[str, Any]:
    location = str(params["location"])
    policy = policy_for(ctx.org, location)
    if policy is None:
        raise TransportCheckFailed(f"not verified: {location} has no dicom_receiver block in the organization file")
    now = ctx.run_started or datetime.now(UTC)
    checks: list[tuple[str, bool, str]] = []
    tls = policy.tls
    checks.append(("TLS required (encryption in transit, TLS 1.2+)", policy.tls_required,
                   f"TLS only, port {tls.port}" if policy.tls_required and tls else
                   f"plain DICOM accepted on port {policy.port}"))
    if tls is not None:
        try:
            server_context(tls)
            expires = certificate_expiry(tls.certificate)
            days = (expires - now).days
            checks.append(("certificate and key load from their secret references", True,
                           f"{tls.certificate}, {tls.key}"))
            checks.append((f"certificate valid for {CERT_WARNING_DAYS}+ days", days >= CERT_WARNING_DAYS,
                           f"expires {expires.date().isoformat()} ({days} days)"))
        except TlsConfigError as exc:
            checks.append(("certificate and key load from their secret references", False, str(exc)))
        if params.get("require_client_certificates", False) or tls.client_ca:
            checks.append(("client certificates checked against a CA", tls.client_ca is not None,
                           tls.client_ca or "no client_ca: any sender that completes TLS may associate"))
    checks.append(("explicit bind address (not every interface)", True, policy.bind))
    checks.append(("senders restricted by AE title and network", True,
                   f"{len(policy.allowed_calling_aes or ())} AE title(s); "
                   + ", ".join(str(n) for n in policy.allowed_networks)))
    checks.append(("size limits and disk floor", True,
                   f"{policy.max_association_bytes // MB:,} MB per association, {policy.max_day_bytes // MB:,} MB "
                   f"per day, refuse below {policy.min_free_disk_bytes // MB:,} MB free"))
    window = parse_duration(params.get("window", "7d"))
    refusals, counts = recent_refusals(ctx.store, location, now - timedelta(seconds=window))
    rows = [{"check": name, "passed": ok, "evidence": evidence} for name, ok, evidence in checks]
    ctx.artifacts.table("imaging-transport", rows, description=f"DICOM transport security at {location}")
    ctx.artifacts.table("imaging-refusals", refusals or [{"reason": "none", "detail": "no refusals recorded"}],
                        description=f"Refused DICOM connections, associations and uploads at {location} "
                                    "(calling AE, source address, reason; no patient data)")
    out = {"passed": all(ok for _, ok, _ in checks), "checks": rows, "policy": policy.summary(),
           "refusals": refusals, "refusal_counts": dict(counts), "window_s": window}
    ctx.audit("imaging.transport_check", {"location": location, "passed": out["passed"],
                                          "refusals": sum(counts.values())})
    if not out["passed"]:
        raise TransportCheckFailed("; ".join(f"{name}: {ev}" for name, ok, ev in checks if not ok))
    return out


KINDS: tuple[StepKind, ...] = (StepKind("imaging.transport_check", run_transport_check),)
