"""Crash injection for the exactly-once harness: `GOLIVE_CRASH_AT=<kind>:<point>[@<step key>]`.

At the named point of the first matching step the process kills itself with SIGKILL (no cleanup,
no `finally`, exactly like `kill -9` or a power cut of the process). Points, in order:
`before` (the kind has not run), `effect` (the kind ran, nothing of it committed), `after` (the
step's result and effects committed). Kinds with an effect in another system add points of their
own around it: `pms.writeback:removing`, `pms.attachment:intent|removing`,
`imaging.dicom_send:intent|sent`, `compliance.deletion_test:intent|requested` (README "Exactly-once runs"). Unset (the normal case) it costs one dict lookup.
`GOLIVE_PAUSE_AT=<kind>:<point>=<seconds>` sleeps there instead (to hold a run open in a race test).
"""

from __future__ import annotations

import os
import signal
import time

ENV = "GOLIVE_CRASH_AT"
PAUSE_ENV = "GOLIVE_PAUSE_AT"
POINTS = ("before", "effect", "after")


def point(kind: str, where: str, step_key: str = "") -> None:
    spec = os.environ.get(ENV)
    if spec:
        target, _, key = spec.partition("@")
        want_kind, _, want_point = target.partition(":")
        if want_kind in (kind, "*") and want_point == where and (not key or key == step_key):
            os.kill(os.getpid(), signal.SIGKILL)
    pause = os.environ.get(PAUSE_ENV)
    if pause:
        target, _, seconds = pause.partition("=")
        want_kind, _, want_point = target.partition(":")
        if want_kind in (kind, "*") and want_point == where:
            time.sleep(float(seconds or 1))
