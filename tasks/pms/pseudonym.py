"""Pseudonymous patient ids: HMAC-SHA256 over (system, location, PMS patient id).

The key comes from `GOLIVE_PSEUDONYM_KEY`, else a 0600 key file beside the store (created on first
use). Same patient, same location -> same pseudonym across runs; without the key it cannot be
reversed or recomputed from a guessed PatNum.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from golive.tasks.foundation.paths import state_dir

ENV_KEY = "GOLIVE_PSEUDONYM_KEY"


def _key() -> bytes:
    env = os.environ.get(ENV_KEY)
    if env:
        return env.encode()
    path = state_dir() / "pseudonym.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
    return Path(path).read_text().strip().encode()


def pseudonym(system: str, location: str, patient_id: str, *, key: bytes | None = None) -> str:
    msg = f"{system}\x1f{location}\x1f{patient_id}".encode()
    return "P-" + hmac.new(key or _key(), msg, hashlib.sha256).hexdigest()[:16]
