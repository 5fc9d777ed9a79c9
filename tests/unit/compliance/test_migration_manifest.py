"""Migration sample counts and evidence manifests: plain files, every problem with its position."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from golive.tasks.compliance.manifest import ManifestInvalid, load_manifest
from golive.tasks.compliance.migration import reconcile
from golive.tasks.foundation.errors import UserInputError
from golive.tasks.foundation.paths import EXAMPLES


def _counts(path: Path, rows: dict[str, int]) -> Path:
    path.write_text("category,count\n" + "".join(f"{k},{v}\n" for k, v in rows.items()))
    return path


def test_counts_that_match(tmp_path: Path) -> None:
    src = _counts(tmp_path / "src.csv", {"implant": 120, "ortho": 80})
    result = reconcile(src, _counts(tmp_path / "dst.csv", {"implant": 120, "ortho": 80}), None)
    assert result.passed and result.to_dict()["migrated_total"] == 200


def test_a_shortfall_needs_a_failed_records_log_that_accounts_for_it(tmp_path: Path) -> None:
    src = _counts(tmp_path / "src.csv", {"implant": 120, "ortho": 80})
    dst = _counts(tmp_path / "dst.csv", {"implant": 118, "ortho": 80})
    assert reconcile(src, dst, None).problems == ("2 record(s) missing and no failed-records log to account for them",)
    log = tmp_path / "failed.csv"
    log.write_text("record,reason\nA,corrupt\n")
    assert reconcile(src, dst, log).problems == ("2 record(s) missing but the failed-records log lists 1",)
    log.write_text("record,reason\nA,corrupt\nB,unreadable\n")
    result = reconcile(src, dst, log)
    assert result.passed and result.failed_records == 2 and len(result.failed_log_sha256 or "") == 64
    assert "corrupt" not in str(result.to_dict())  # the log's content is never read into results


def test_more_migrated_than_the_source_holds_fails(tmp_path: Path) -> None:
    src = _counts(tmp_path / "src.csv", {"ortho": 80})
    result = reconcile(src, _counts(tmp_path / "dst.csv", {"ortho": 81}), None)
    assert result.problems == ("ortho: 81 migrated but the source holds 80",)


def test_bad_counts_files(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("category,count\nimplant,many\n")
    with pytest.raises(UserInputError, match=r"bad.csv:2:1: error: expected 'category,count'"):
        reconcile(bad, bad, None)
    bad.write_text("kind,n\n")
    with pytest.raises(UserInputError, match="expected the header"):
        reconcile(bad, bad, None)


def test_the_example_manifest_loads() -> None:
    items = load_manifest(EXAMPLES / "acme-dental" / "compliance" / "evidence.yaml")
    assert len(items) == 9 and all(i.file.is_file() for i in items)
    baa = items[0]
    assert (baa.subject, baa.supplied_by, baa.supplied_on, baa.expires_on) == ("baa", "Helen Marsh", date(2026, 1, 6), None)


def test_manifest_problems_come_with_positions(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("x")
    path = tmp_path / "evidence.yaml"
    path.write_text("apiVersion: golive/v1\nkind: ComplianceEvidence\nevidence:\n"
                    "  - {requirement: baa, file: a.md, supplied_by: H, role: Legal, date: 2026-02-30}\n"
                    "  - {requirement: backup, file: nope.md, supplied_by: J, role: Vendor, date: 2026-01-02, expires: 2025-01-01}\n"
                    "  - {requirement: bba, file: a.md, supplied_by: H, role: Legal, date: 2026-01-02}\n")
    with pytest.raises(ManifestInvalid) as caught:
        load_manifest(path)
    text = [i.format() for i in caught.value.issues]
    assert len(text) == 1 and f"{path}:6:" in text[0] and "'bba' is not one of" in text[0]  # schema first
    path.write_text(path.read_text().replace("bba", "baa"))
    with pytest.raises(ManifestInvalid) as caught:
        load_manifest(path)
    lines = path.read_text().splitlines()
    at = [(line, lines[line - 1].index(value) + 1) for line, value in ((4, "2026-02-30"), (5, "nope.md"), (5, "2025-01-01"))]
    assert [(i.line, i.column) for i in caught.value.issues] == at
    messages = " | ".join(i.message for i in caught.value.issues)
    assert "'2026-02-30' is not a calendar date" in messages and "no such file 'nope.md'" in messages
    assert "2025-01-01 is not after 2026-01-02" in messages
