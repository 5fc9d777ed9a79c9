"""The step-kind registry: a plain mapping from the name `uses:` gives to a registered kind.

Kinds are registered explicitly here; YAML never names a Python object. Each kind's `with:` is
checked against `schemas/steps/<name>.schema.json` (a test asserts the two lists agree).
"""

from __future__ import annotations

from collections.abc import Mapping

from tasks.core import approval, checklist, expect, notify
from tasks.gates import kinds as gate_kinds
from tasks.imaging import kinds as imaging_kinds
from tasks.kind import StepKind
from tasks.planning import kinds as planning_kinds
from tasks.pms import kinds as pms_kinds
from tasks.reports import render

_KINDS: tuple[StepKind, ...] = (
    checklist.KIND,
    expect.KIND,
    approval.KIND,
    notify.KIND,
    render.KIND,
    *gate_kinds.KINDS,
    *imaging_kinds.KINDS,
    *pms_kinds.KINDS,
    *planning_kinds.KINDS,
)

STEP_KINDS: Mapping[str, StepKind] = {k.name: k for k in _KINDS}
