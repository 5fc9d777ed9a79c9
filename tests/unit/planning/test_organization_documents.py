"""The organization file's `documents:`, `delivery:` and `investment:` blocks: loaded values, and
mistakes reported with file, line and column (no credential ever written into the file)."""

from __future__ import annotations

from pathlib import Path

import pytest

from golive.tasks.planning.organization import OrganizationInvalid, load_organization

MINIMAL = """\
apiVersion: golive/v1
kind: Organization
name: Tiny Dental
timezone: America/Denver
regions:
  - {id: west, name: West}
people:
  - {name: Pat Doe, roles: [Regional Manager], region: west, email: pat@tiny.example}
locations:
  - {id: one, name: One, region: west}
"""


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "organization.yaml"
    p.write_text(text, encoding="utf-8")
    return p


def errors(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(OrganizationInvalid) as exc:
        load_organization(write(tmp_path, text))
    return [i.format().replace(str(tmp_path) + "/", "") for i in exc.value.issues]


def test_blocks_load_with_paths_beside_the_file(tmp_path: Path) -> None:
    (tmp_path / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    org = load_organization(write(tmp_path, MINIMAL + """\
documents: {rollout_office: Tiny Rollout Office, logo: logo.png, primary_colour: "#112233"}
delivery:
  email: {host: smtp.tiny.example, sender: rollout@tiny.example, username: "env:SMTP_USER", password: "env:SMTP_PASSWORD"}
  webhooks: [{name: rollout-teams, url: "env:TEAMS_URL", roles: [Regional Manager]}]
investment: {licence_per_location_month: 900, hardware: 1000, planned_payback_months: 12}
"""))
    assert org.documents is not None and org.documents.logo == tmp_path / "logo.png"
    assert org.delivery is not None and org.delivery.email is not None and org.delivery.email.security == "starttls"
    assert org.delivery.email.port == 587 and org.delivery.webhooks[0].roles == ("Regional Manager",)
    assert org.investment is not None and org.investment.planned_payback_months == 12


def test_mistakes_come_back_with_positions(tmp_path: Path) -> None:
    found = errors(tmp_path, MINIMAL + """\
documents: {logo: missing.png, primary_colour: navy}
delivery:
  email: {host: smtp.remote.example, sender: rollout@tiny.example, security: plain-local, password: hunter2}
investment: {hardware: 1000}
""")
    text = "\n".join(found)
    assert "organization.yaml:11:" in text and "is not a hex colour" in text
    assert "file 'missing.png' not found" in text
    assert "plain-local (no TLS) is only for a relay on localhost" in text
    assert "is not a secret reference" in text and "hunter2" not in text
    assert "licence_per_location_month" in text
