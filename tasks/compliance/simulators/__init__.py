"""SIMULATORS for tests, the demo and benchmarks: not the real services.

- `scim_app`: a SCIM 2.0 service provider (RFC 7643/7644: `/Users`, `/Groups`, paging, bearer
  token, SCIM errors) standing in for the group's identity provider.
- `platform_app`: the AI platform's patient-data API as far as the deletion-on-request workflow
  needs it. The vendor publishes no API documentation we can cite, so it models a plain REST API
  with asynchronous deletion requests; see the module for what it assumes.
Every response carries the header `X-Golive-Simulator`. `python -m golive.tasks.compliance.simulators`
starts either as a process on a port the OS picks (reported in a ready file).
"""

from __future__ import annotations

SIMULATOR_HEADER = "X-Golive-Simulator"
