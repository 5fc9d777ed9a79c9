"""Secret references for PMS connections: the shared mechanism (`golive.tasks.foundation.secrets`),
raising `PmsConfigError` so a missing key reads as a PMS configuration problem."""

from __future__ import annotations

import os
from collections.abc import Callable

from golive.tasks.foundation import secrets as _secrets
from golive.tasks.foundation.secrets import SCHEMES, Secret, is_reference
from golive.tasks.pms.protocol import PmsConfigError

__all__ = ["SCHEMES", "Secret", "check_reference", "is_reference", "resolve"]


def check_reference(text: object, what: str) -> str:
    return _secrets.check_reference(text, what, error=PmsConfigError)


def resolve(ref: str, what: str = "secret", *, env: Callable[[str], str | None] = os.environ.get) -> Secret:
    return _secrets.resolve(ref, what, env=env, error=PmsConfigError)
