"""The demo's compliance part: the weekly configuration-drift check, then security and HIPAA
verification (whose status report includes the drift), on the example group, before integration
validation (whose PHI guard reads the evidence they record).

Two SIMULATORS stand in for services the example group does not have: the identity provider (a
SCIM 2.0 server process serving examples/acme-dental/identity/directory.json) and the platform's
API (a process over TLS, with a certificate from a CA made for this demo, so the TLS check has a
real endpoint and the deletion test a real API). The example directory holds one planted access
violation and the example configuration exports one drift; the demo finds both (those two runs end
`failed`, as expected).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from golive.tasks.foundation import paths

EXAMPLE = paths.EXAMPLES / "acme-dental"


def runs(demo_run: Any) -> tuple[Any, ...]:
    """The demo entries, built with demo.py's own `DemoRun` (passed in: demo.py runs as __main__)."""
    return (
        demo_run(
            "configuration-drift",
            "Every location's exported platform configuration against the standards: 1 drift",
            params={"exports": str(EXAMPLE / "platform-config")},
            expect="failed",
        ),
        demo_run(
            "security-compliance",
            "HIPAA checklist with evidence; TLS, audit export, deletion test, access matrix over SCIM: 1 violation",
            params={"evidence": str(EXAMPLE / "compliance" / "evidence.yaml"), "platform_url": "@platform_url",
                    "ca_file": "@platform_ca", "platform_api": "@platform_api", "directory": "@scim"},
            inputs=EXAMPLE / "compliance-inputs.yaml",
            expect="failed",
        ),
    )


@dataclass
class Simulators:
    processes: tuple[Any, ...]

    def stop(self) -> None:
        for p in self.processes:
            p.stop()


def start_simulators(found: dict[str, Any]) -> Simulators:
    """The SCIM and platform API simulators as processes; their tokens reach golive as env references."""
    from golive.tasks.compliance.simulators.pki import demo_certificate
    from golive.tasks.compliance.simulators.process import start_platform, start_scim

    state = paths.state_dir()
    state.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC)
    cert, key, ca = demo_certificate(state / "demo-pki", now - timedelta(days=1), now + timedelta(days=90))
    scim = start_scim(EXAMPLE / "identity" / "directory.json", log_file=state / "scim-simulator.log")
    try:
        platform = start_platform(certfile=str(cert), keyfile=str(key), ca_file=str(ca),
                                  log_file=state / "platform-simulator.log")
    except BaseException:
        scim.stop()
        raise
    os.environ["GOLIVE_DEMO_SCIM_TOKEN"] = scim.token
    os.environ["GOLIVE_DEMO_PLATFORM_TOKEN"] = platform.token
    found.update({
        "scim": {"base_url": scim.url, "token": "env:GOLIVE_DEMO_SCIM_TOKEN"},
        "platform_url": platform.root, "platform_ca": str(ca),
        "platform_api": {"base_url": platform.url, "token": "env:GOLIVE_DEMO_PLATFORM_TOKEN",
                         "test_patient": "DEMO-TEST-PATIENT"},
    })
    return Simulators((scim, platform))

