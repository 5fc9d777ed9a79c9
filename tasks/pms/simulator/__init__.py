"""A SIMULATOR of the Open Dental REST API subset golive uses (not Open Dental, not affiliated).

It follows Open Dental's public API documentation (`/api/v1`, `Authorization: ODFHIR dev/customer`,
PascalCase fields, Limit/Offset paging of at most 100 rows, DateTStamp incremental reads, 400/401/404
with an explanation, 429 throttling) and marks every response with `X-Simulator: golive-opendental`.
Its patients are invented; their names and SSN-like fields carry PHI canary strings so tests can
prove no PHI leaks. Faults (5xx rate, 429 + Retry-After, latency, a response dropped after the write
committed) and the reported program version are settable.

Run it: `python -m golive.tasks.pms.simulator --port 8765 --db sim.db --version 23.3.8 --seed 1`.
"""

from __future__ import annotations

SIMULATOR_HEADER = "X-Simulator"
SIMULATOR_NAME = "golive-opendental"
CANARY_TOKEN = "ZQXCANARY"  # every seeded name carries it; tests grep outputs for it
