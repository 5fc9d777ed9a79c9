"""Compliance benchmark: the Access Control Matrix check of a 50-location, ~2,000-account directory.

- read the CSV export + check every account (all five kinds of finding, per location), against
  only parsing the same CSV with `csv.DictReader` (the least any check must do);
- the check alone, against a plain Python loop that finds only permissions beyond the matrix;
- the same directory read over SCIM 2.0 from the simulator process (100 per page), against a bare
  httpx paging loop over the same server.
All measured in the same run, interleaved.
"""

from __future__ import annotations

import csv
import io
import json
import tempfile
from pathlib import Path
from typing import Any

import httpx

from bench.timing import interleaved, ratio_line
from golive.tasks.compliance.access import MATRIX_ROLES, AccessMatrix, check_access
from golive.tasks.compliance.directory import CSV_COLUMNS, Level, Vocabulary, parse_csv, parse_grant
from golive.tasks.compliance.scim import read_directory
from golive.tasks.compliance.simulators.process import start_scim
from golive.tasks.compliance.simulators.staff import Planted, directory, to_csv_rows
from golive.tasks.foundation.paths import DEFAULT_ORG
from golive.tasks.foundation.secrets import Secret
from golive.tasks.planning.organization import load_organization

LOCATIONS = 50
STAFF_PER_LOCATION = 40
REPEAT = 7


def _setup() -> tuple[dict[str, Any], str, AccessMatrix, Vocabulary, list[str]]:
    org = load_organization(DEFAULT_ORG)
    assert org.access_control is not None
    locations = [(f"site-{i:02d}", f"Site {i:02d}") for i in range(LOCATIONS)]
    planted = [Planted(f"site-{i:02d}", "Front Desk", grant="edit_plan") for i in range(0, LOCATIONS, 10)]
    resources = directory(locations, [r.id for r in org.regions], org.access_control.matrix,
                          staff_per_location=STAFF_PER_LOCATION, seed=3, planted=planted)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS)
    writer.writeheader()
    writer.writerows(to_csv_rows(resources, {name: loc for loc, name in locations}))
    return (resources, buffer.getvalue(), AccessMatrix.from_organization(org), Vocabulary(MATRIX_ROLES, locations),
            [loc for loc, _ in locations])


def _plain_loop(text: str, matrix: AccessMatrix) -> int:
    """Baseline: beyond-the-matrix only, the loop one would write by hand over the CSV rows."""
    found = 0
    for row in csv.DictReader(io.StringIO(text)):
        roles = [r for r in row["roles"].split(";") if r in matrix.rows]
        for value in filter(None, row["entitlements"].split(";")):
            grant = parse_grant(value)
            if grant is None:
                continue
            allowed = max((matrix.rows[r][grant[0]].rank for r in roles), default=Level.NONE.rank)
            found += grant[1].rank > allowed
    return found


def _bare_scim(url: str, token: str) -> int:
    n, start = 0, 1
    with httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=30) as client:
        for resource in ("Users", "Groups"):
            start, total = 1, None
            while total is None or start <= total:
                body = client.get(f"{url}/{resource}", params={"startIndex": start, "count": 100}).json()
                total = body["totalResults"]
                n += len(body["Resources"])
                start += len(body["Resources"]) or 1
    return n


def main() -> list[str]:
    resources, text, matrix, vocabulary, locations = _setup()
    accounts = len(resources["Users"])
    parsed = parse_csv(text, "bench.csv", vocabulary)
    report = check_access(parsed, matrix, locations=locations)
    assert report.violations == _plain_loop(text, matrix) == LOCATIONS // 10, (report.violations, report.counts())
    lines = [f"directory: {accounts} accounts at {LOCATIONS} locations, {report.violations} planted violations found"]
    ours, base = interleaved(lambda: check_access(parse_csv(text, "bench.csv", vocabulary), matrix, locations=locations),
                             lambda: list(csv.DictReader(io.StringIO(text))), REPEAT)
    lines.append(ratio_line("read CSV + full access check", ours, "csv.DictReader parse only", base))
    ours, base = interleaved(lambda: check_access(parsed, matrix, locations=locations),
                             lambda: _plain_loop(text, matrix), REPEAT)
    lines.append(ratio_line("access check (5 finding kinds, per location)", ours,
                            "plain loop: parse + beyond-matrix only", base))
    with tempfile.TemporaryDirectory() as d:
        data = Path(d) / "directory.json"
        data.write_text(json.dumps(resources))
        sim = start_scim(data, startup_s=60)
        try:
            token = Secret("env:BENCH", sim.token)
            ours, base = interleaved(lambda: read_directory(sim.url, token, vocabulary, page_size=100),
                                     lambda: _bare_scim(sim.url, sim.token), 3)
        finally:
            sim.stop()
    lines.append(ratio_line("SCIM read of every user and group (100 per page)", ours, "bare httpx paging loop", base))
    return lines
