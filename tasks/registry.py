"""The step-kind registry: a plain mapping from the name `uses:` gives to a registered kind.

Kinds are registered explicitly here, each with what validation and planning need (summary,
flags) and the module that implements it; YAML never names a Python object. The implementation
is imported when a step of that kind first runs, so `golive validate` stays light. Each kind's
`with:` is checked against `schemas/steps/<name>.schema.json`; tests assert that the schema list,
this table and every implementing module agree.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # types only: validating a runbook loads neither the run context nor any kind's code
    from golive.tasks.context import InputRequest, StepContext
    from golive.tasks.kind import InputFn, StepKind

_LOAD_LOCK = threading.Lock()


@dataclass(frozen=True)
class KindSpec:
    """A registered kind: its metadata here, its code in `module` (a module exporting `KINDS`).

    `side_effects`: a completed run is never repeated under the same run key, even when its
    inputs changed. `observes`: the kind reads state outside its inputs (metrics in the store, a
    live endpoint), so its result is never reused on resume. `expression_fields`: keys of `with:`
    that hold bare expressions, evaluated by the kind through `ctx.evaluate`. `atomic`: every store
    write the kind makes on its step's thread commits in one transaction with the step's result and
    audit entries (effects that live in the store; see `golive.tasks.store.unit`). `decided_by`:
    the kind of human decision (`--approve` / `--confirm`, `approvals:` / `confirmations:`) the step
    takes, checked before the run starts.
    """

    name: str
    module: str
    summary: str
    side_effects: bool = False
    observes: bool = False
    expression_fields: frozenset[str] = frozenset()
    atomic: bool = False
    decided_by: str | None = None  # "approval" or "checklist": the decision a person may give it up front
    # Tests may register a kind whose code is given directly instead of imported from `module`.
    code: StepKind | None = field(default=None, compare=False, repr=False)

    def implementation(self) -> StepKind:
        """The kind's code, importing its module on first use (thread-safe)."""
        if self.code is not None:
            return self.code
        with _LOAD_LOCK:
            module = importlib.import_module(self.module)
        for kind in module.KINDS:
            if kind.name == self.name:
                return kind
        raise LookupError(f"{self.module} does not implement step kind {self.name!r}")

    def run(self, ctx: StepContext, params: dict[str, Any]) -> dict[str, Any]:
        return self.implementation().run(ctx, params)

    @property
    def request_input(self) -> InputFn | None:
        return self.implementation().request_input

    def input_request(self, params: dict[str, Any], step_key: str) -> InputRequest | None:
        ask = self.request_input
        return ask(params, step_key) if ask is not None else None


_CORE = "golive.tasks.core"
_GATES = "golive.tasks.gates.kinds"
_IMAGING = "golive.tasks.imaging.kinds"
_PMS = "golive.tasks.pms.kinds"
_PLANNING = "golive.tasks.planning.kinds"
_COMPLIANCE = "golive.tasks.compliance.kinds"
_PROGRAM = "golive.tasks.program.kinds"

_KINDS: tuple[KindSpec, ...] = (
    # core
    KindSpec("checklist", f"{_CORE}.checklist", "Items checked by an expression or confirmed by a person",
             side_effects=True, expression_fields=frozenset({"check"}), atomic=True, decided_by="checklist"),
    KindSpec("expect", f"{_CORE}.expect", "Fail with a message when the expression `that` is false",
             expression_fields=frozenset({"that"})),
    KindSpec("approval", f"{_CORE}.approval", "Pause for a typed decision by one of the named roles",
             side_effects=True, atomic=True, decided_by="approval"),
    # Not atomic: its delivery ledger row is the intent, committed before the hand-over (de-duplicates it).
    KindSpec("notify", f"{_CORE}.notify",
             "Deliver a message (and documents) to roles: SMTP email, Teams/Slack webhooks, or the outbox",
             side_effects=True),
    # renders every earlier step's outputs, not only its `with:`: always re-render
    KindSpec("report.render", "golive.tasks.reports.render",
             "Render a Jinja template from templates/ to Markdown, a framed DOCX and its PDF under out/", observes=True),
    KindSpec("register.update", "golive.tasks.reports.register_kind",
             "Open, refresh and close risk and issue register entries from gate and rollback outputs",
             side_effects=True),
    # gates and rollback
    KindSpec("gate", _GATES, "Go/no-go/inconclusive over metric criteria, stored with evidence",
             side_effects=True, observes=True, atomic=True),
    KindSpec("metrics.import_daily", _GATES,
             "Import a daily metrics CSV (counts give derived rates) into the store", side_effects=True, atomic=True),
    KindSpec("probe.http", _GATES, "Probe the platform endpoint over HTTP and store availability",
             side_effects=True, observes=True),
    KindSpec("metrics.collect", "golive.tasks.gates.collect.kinds",
             "Collect days of metrics from their sources (PMS, tickets, LRS, probes, survey)",
             side_effects=True, observes=True),
    KindSpec("metrics.simulate", _GATES, "Simulate daily metrics from a scenario file into the store",
             side_effects=True, atomic=True),
    KindSpec("rollback.triggers", _GATES, "Check the four rollback triggers; list affected locations",
             observes=True),
    # Not atomic: its open-rollback row is the intent, committed before the launch (de-duplicates it).
    KindSpec("rollback.start", _GATES, "Open a rollback for one location and start its runbook",
             side_effects=True),
    KindSpec("rollout.set", _GATES, "Set locations' rollout status (live, or back on the previous workflow)",
             side_effects=True, atomic=True),
    KindSpec("deadline.check", _GATES, "Check a deadline counted from a trigger time; escalate when overdue",
             side_effects=True, observes=True, atomic=True),
    # imaging
    KindSpec("imaging.dicom_echo", _IMAGING, "C-ECHO the imaging endpoint (or the bundled stand-in receiver)"),
    KindSpec("imaging.dicom_send", _IMAGING,
             "Send a CBCT series and prove it arrived whole, unchanged, lossless, right patient, on time",
             side_effects=True),
    KindSpec("imaging.validate_ai", _IMAGING,
             "Segment, measure and write SEG/SR; check time, canal, density, implant plans, agreement"),
    KindSpec("imaging.transport_check", "golive.tasks.imaging.transport_kinds",
             "The location's DICOM receiver policy against TLS 1.2+ in transit, and its recorded refusals",
             observes=True),
    KindSpec("imaging.validate_ios", _IMAGING,
             "Check an intraoral STL/PLY scan (load, triangles, size, open surfaces) and its CBCT alignment"),
    # PMS battery
    KindSpec("pms.version_check", _PMS, "PMS version at or above the playbook's minimum"),
    KindSpec("pms.auth_check", _PMS, "PMS API (Open Dental) or database connection (Dentrix, Eaglesoft) open with "
                                     "these credentials"),
    KindSpec("pms.patient_read", _PMS,
             "Read the designated test patient: demographics, history, allergies/medications, insurance"),
    KindSpec("pms.writeback", _PMS,
             "Write a treatment plan to the test patient (idempotent), read it back, remove it; only where the "
             "version can remove it", side_effects=True),
    KindSpec("pms.code_mapping", _PMS, "Every platform procedure code is CDT-form/range and exists in the PMS code list"),
    KindSpec("pms.nondestructive", _PMS, "Read 10 real records and prove by change stamps that nothing changed"),
    KindSpec("pms.imaging_passthrough", _PMS, "Image metadata passes through for the test patient"),
    KindSpec("pms.attachment", _PMS, "Attach a test image to the test patient, read it back, remove it; only "
                                     "where the version can remove it",
             side_effects=True),
    # planning
    KindSpec("planning.readiness", _PLANNING, "Score every location's readiness (five factors, tier)"),
    KindSpec("planning.waves", _PLANNING, "Plan waves: pilot by the playbook's rules, then waves 2-3 and deferred"),
    KindSpec("planning.calendar", _PLANNING, "Schedule every go-live and pilot check-in; write an .ics"),
    KindSpec("planning.tech_check", _PLANNING, "Automated technical checks per location"),
    # Not `side_effects`: the import is idempotent, so a re-run with changed files should run again.
    KindSpec("planning.baseline_import", _PLANNING, "Import baseline metric CSVs (idempotent)"),
    KindSpec("planning.baseline", _PLANNING, "Baseline completeness and suspicious values against the deadline",
             observes=True),
    # compliance (security, HIPAA, access control, configuration standards)
    KindSpec("compliance.evidence", _COMPLIANCE,
             "Record supplied documents (hash, who, when, expiry) as evidence for the HIPAA checklist",
             side_effects=True, atomic=True),
    KindSpec("compliance.tls_check", _COMPLIANCE,
             "Check the platform endpoint's TLS: protocol >= 1.2, chain, expiry, host name", observes=True),
    KindSpec("compliance.audit_export", _COMPLIANCE, "Export golive's audit log for a date range and verify it",
             observes=True),
    KindSpec("compliance.deletion_test", _COMPLIANCE,
             "Delete the test patient's platform data on request and prove through the API it is gone",
             side_effects=True),
    KindSpec("compliance.access_check", _COMPLIANCE,
             "Access Control Matrix against the identity provider (SCIM or CSV): violations per location",
             observes=True),
    KindSpec("compliance.config_standards", _COMPLIANCE,
             "Enterprise configuration standards: the organization's values and each location's export (drift)",
             observes=True),
    KindSpec("compliance.status", _COMPLIANCE, "HIPAA checklist status, PHI readiness, reminders, overrides",
             observes=True),
    KindSpec("compliance.reminders", _COMPLIANCE, "Attestations about to lapse and vendor actions near or past due",
             observes=True),
    # reads the evidence each time (never reused) and records an override once per run key
    KindSpec("compliance.phi_guard", _COMPLIANCE,
             "No PHI to the vendor until the BAA and PHI prerequisites are complete; override by recorded approval",
             side_effects=True, atomic=True, observes=True, decided_by="approval"),
    KindSpec("compliance.credential_handover", _COMPLIANCE,
             "Hand the location's PMS credentials to the vendor as secret references (checked, never shown)",
             side_effects=True, atomic=True),
    KindSpec("compliance.vendor_request", _COMPLIANCE, "Record a vendor action the group waits on, with its due date",
             side_effects=True, atomic=True),
    KindSpec("compliance.migration_check", _COMPLIANCE,
             "Migration sample validation: counts per category against the source, failed-records log"),
    # the program: location lifecycle, hard-rule guards and their overrides, the board
    KindSpec("program.transition", _PROGRAM,
             "Move locations through the lifecycle (state machine); guards and go-live slots enforced",
             side_effects=True, atomic=True),
    KindSpec("program.check", _PROGRAM, "Which playbook hard rules block a lifecycle change (from the store)",
             observes=True),
    KindSpec("program.override", _PROGRAM, "Set blocking hard rules aside by a recorded approval with a reason",
             side_effects=True, atomic=True, decided_by="approval"),
    KindSpec("program.plan", _PROGRAM,
             "Record the wave plan: assessed, scheduled per wave, deferred with a remediation plan",
             side_effects=True, atomic=True),
    KindSpec("program.validation", _PROGRAM, "Record a location's integration validation outcome",
             side_effects=True, atomic=True),
    KindSpec("program.board", _PROGRAM, "Render the program board (Markdown under out/ and an artifact)",
             observes=True),
    KindSpec("program.deadlines", _PROGRAM,
             "Rollback deadlines and overdue steps checked while a phase runs; each reminder once",
             side_effects=True, atomic=True),
    KindSpec("program.invariants", _PROGRAM,
             "Check the program's invariants over the stored history (legal lifecycle, GO, validation, slots)",
             observes=True),
)

STEP_KINDS: Mapping[str, KindSpec] = {k.name: k for k in _KINDS}
