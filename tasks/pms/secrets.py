"""Secret references for PMS connections: the shared resolver (`golive.tasks.foundation.secrets`)
raising `PmsConfigError`, so connector callers keep catching the PMS error family."""

from __future__ import annotations

import os
from collections.abc import Callable

from golive.tasks.foundation import secrets as _shared
from golive.tasks.foundation.secrets import SCHEMES, Secret, is_reference
from golive.tasks.pms.protocol import PmsConfigError

__all__ = ["SCHEMES", "Secret", "check_reference", "is_reference", "resolve"]


def check_reference(text: object, what: str) -> str:
    """The reference itself, or `PmsConfigError` saying how to write one (never echoing the value)."""
    return _shared.check_reference(text, what, PmsConfigError)


def resolve(ref: str, what: str = "secret", *, env: Callable[[str], str | None] = os.environ.get) -> Secret:
    return _shared.resolve(ref, what, env=env, error=PmsConfigError)
