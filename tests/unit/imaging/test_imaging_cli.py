from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from golive.flows.cli.imaging import app

runner = CliRunner()


def test_inspect_json_has_the_documented_keys(phantom_dir: Path) -> None:
    res = runner.invoke(app, ["inspect", str(phantom_dir / "series"), "--json"])
    assert res.exit_code == 0, res.output
    info = json.loads(res.output)
    assert set(info) == {"series_instance_uid", "modality", "slices", "rows", "columns", "spacing_mm", "hu_range",
                         "lossy_compression", "warnings", "notes"}
    assert info["spacing_mm"] == [1.0, 1.0, 1.0]


def test_bad_input_exits_2_naming_the_file(series_copy: Path) -> None:
    victim = sorted(series_copy.glob("*.dcm"))[4]
    victim.write_bytes(victim.read_bytes()[:3000])
    res = runner.invoke(app, ["inspect", str(series_copy)])
    assert res.exit_code == 2
    assert victim.name in res.output and "Traceback" not in res.output


def test_phantom_command_writes_series_and_labels(tmp_path: Path) -> None:
    res = runner.invoke(app, ["phantom", "--out", str(tmp_path / "p"), "--seed", "3"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["slices"] == 60 and Path(out["labels"]).is_file()
