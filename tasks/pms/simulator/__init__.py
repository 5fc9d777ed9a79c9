"""A SIMULATOR of the Open Dental REST API subset golive uses (not Open Dental, not affiliated).

It follows Open Dental's public API documentation (https://www.opendental.com/site/apispecification.html
and the pages it links): `/api/v1`, `Authorization: ODFHIR dev/customer`, `Content-Type:
application/json` required, PascalCase fields, Limit/Offset paging of at most 100 rows, the routes
and "Version Added" of the shared route table (`golive.tasks.pms.routes`), incremental reads through
`Patients GET Simple` with DateTStamp and `serverDateTime`, the documented statuses (200, 201, 400
with an explanation incl. "not high enough" for a version too low, 401, 404, 410, 504) and throttling
per customer key (one request per 5 s unless set). Every response carries `X-Simulator:
golive-opendental`. Its patients are invented; names, SSN-like fields and image folders carry PHI
canary strings so tests can prove no PHI leaks. Faults (504, transient 400, an undocumented 429 +
Retry-After, latency, a response dropped after the write committed), the reported program version,
the throttle and the image storage are settable.

Run it: `python -m golive.tasks.pms.simulator --port 8765 --db sim.db --version 24.4.26 --throttle 5`.
"""

from __future__ import annotations

SIMULATOR_HEADER = "X-Simulator"
SIMULATOR_NAME = "golive-opendental"
CANARY_TOKEN = "ZQXCANARY"  # every seeded name carries it; tests grep outputs for it
