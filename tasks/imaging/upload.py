"""Intraoral scan uploads (STL/PLY) under the same type and size limits as DICOM transfers.

A file is admitted when the location accepts intraoral scans, its content is the mesh format its
name says (binary or ASCII STL, PLY: read from its first bytes, never trusted from the suffix),
it fits the per-transfer limit and today's total, and the disk is above the floor. An admitted
file counts towards the day's total; a refused one is audited like a refused association.
"""

from __future__ import annotations

import shutil
import struct
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from golive.tasks.imaging.errors import ImagingError
from golive.tasks.imaging.policy import Decision, ObjectType, ReceiverPolicy, RefusalReason
from golive.tasks.imaging.receiver import REFUSED_EVENT, AuditFn, Refusal
from golive.tasks.imaging.usage import DailyUsage, UsageLedger

_STL_HEADER = 84  # 80-byte header + uint32 triangle count; then 50 bytes per triangle


class UploadRefused(ImagingError):
    """An intraoral scan file was refused by the location's receiver policy."""

    reason = "refused"


@dataclass(frozen=True)
class Admission:
    path: Path
    format: str
    nbytes: int
    day_bytes: int


def mesh_format(path: Path) -> str | None:
    """`stl` (binary or ASCII), `ply`, or None: judged by the bytes, not the name."""
    size = path.stat().st_size
    with path.open("rb") as f:
        head = f.read(4096)
    if head.startswith((b"ply\n", b"ply\r\n")):
        return "ply"
    if len(head) >= _STL_HEADER and _STL_HEADER + 50 * struct.unpack("<I", head[80:84])[0] == size:
        return "stl"  # binary STL (its 80-byte header may itself begin with "solid")
    if head.lstrip().lower().startswith(b"solid") and b"facet" in head.lower():
        return "stl"  # ASCII STL
    return None


def admit_upload(path: Path | str, policy: ReceiverPolicy, ledger: UsageLedger, *,
                 audit: AuditFn | None = None, free_disk: Callable[[Path], int] | None = None,
                 clock: Callable[[], datetime] | None = None) -> Admission:
    """Admit an intraoral scan file or raise `UploadRefused` (audited) with the policy's reason."""
    p = Path(path)
    if not p.is_file():
        raise ImagingError(p, "no such file")
    clock = clock or (lambda: datetime.now(UTC))
    free_disk = free_disk or (lambda q: shutil.disk_usage(q).free)
    daily = DailyUsage(ledger, policy.location, policy.timezone, clock)
    nbytes = p.stat().st_size
    fmt = mesh_format(p)
    decision: Decision | None = None
    if ObjectType.INTRAORAL_SCAN not in policy.objects:
        decision = Decision(RefusalReason.FILE_TYPE, f"intraoral scans are not accepted at {policy.location}")
    elif fmt is None or f".{fmt}" != p.suffix.lower():
        decision = Decision(RefusalReason.FILE_TYPE,
                            f"the file's content is not {p.suffix.lower().lstrip('.').upper() or 'STL or PLY'} "
                            "(intraoral scans are accepted as STL or PLY)")
    else:
        decision = (policy.size_decision(nbytes, daily.refresh() + nbytes)
                    or policy.disk_decision(free_disk(p.parent)))
    if decision is not None:
        refusal = Refusal(at=clock().isoformat(timespec="seconds"), location=policy.location, listener="upload",
                          source="file", calling_ae="", reason=decision.reason, detail=decision.detail)
        if audit is not None:
            audit(REFUSED_EVENT, refusal.as_dict())
        raise UploadRefused(p, f"refused: {decision.detail} ({decision.reason.value})")
    daily.charge(nbytes)
    daily.settle(nbytes, 1)
    return Admission(p, str(fmt), nbytes, daily.refresh())
