"""Reports reachable from the Prefect UI: http links from golive's read-only report server (issue 11)."""

from __future__ import annotations

import threading
from pathlib import Path

import httpx
import pytest

from golive.flows.cli.report_server import make_server
from golive.flows.engine.report_links import link_markdown, public_url


@pytest.fixture
def served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    out = tmp_path / "out"
    (out / "run-1").mkdir(parents=True)
    (out / "run-1" / "brief.docx").write_bytes(b"PK\x03\x04docx")
    (out / "run-1" / "chart.png").write_bytes(b"\x89PNG\r\n")
    (tmp_path / "secret.txt").write_text("outside out/")
    server = make_server(out, 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    monkeypatch.setenv("GOLIVE_OUT", str(out))
    monkeypatch.setenv("GOLIVE_REPORTS_URL", base)
    yield out, base
    server.shutdown()
    server.server_close()


def test_documents_under_out_get_http_links_that_open(served) -> None:  # type: ignore[no-untyped-def]
    out, base = served
    url = public_url(str(out / "run-1" / "brief.docx"))
    assert url == f"{base}/run-1/brief.docx"
    assert httpx.get(url).content == b"PK\x03\x04docx"
    assert public_url((out / "run-1" / "brief.docx").as_uri()) == url  # a file:// link too
    image = link_markdown(f"![chart]({out / 'run-1' / 'chart.png'}) and [site](https://example.org)")
    assert image == f"![chart]({base}/run-1/chart.png) and [site](https://example.org)"
    assert httpx.get(f"{base}/run-1/chart.png").headers["content-type"] == "image/png"


def test_the_report_server_is_read_only_local_and_stays_inside_out(served) -> None:  # type: ignore[no-untyped-def]
    out, base = served
    assert base.startswith("http://127.0.0.1:")
    for method in ("POST", "PUT", "DELETE"):
        assert httpx.request(method, f"{base}/run-1/brief.docx", content=b"x").status_code == 501
    assert (out / "run-1" / "brief.docx").read_bytes() == b"PK\x03\x04docx"
    assert "outside out/" not in httpx.get(f"{base}/../secret.txt").text
    assert "outside out/" not in httpx.get(f"{base}/%2e%2e/secret.txt").text


def test_without_a_report_server_links_stay_file_uris(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOLIVE_OUT", str(tmp_path))
    monkeypatch.setenv("GOLIVE_HOME", str(tmp_path / ".golive"))
    monkeypatch.delenv("GOLIVE_REPORTS_URL", raising=False)
    assert public_url(str(tmp_path / "a.docx")).startswith("file://")


def test_a_rendered_report_publishes_document_links_and_a_chart_the_ui_can_load(served, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """report.render's artifacts, through the engine's link rewriting, point at the report server."""
    from golive.flows.engine.expressions import evaluate
    from golive.tasks.context import NullArtifacts, StepContext
    from golive.tasks.reports import charts, render

    out, base = served
    templates = out.parent / "templates"
    templates.mkdir()
    (templates / "c.md.j2").write_text("# Scores\n\n![scores](scores.png)\n")
    original = render.render_markdown
    monkeypatch.setattr(render, "render_markdown", lambda name, values: original(name, values, templates))
    charts.horizontal_bars(out / "k" / "scores.png", ["a", "b"], [21.0, 14.0], title="t", xlabel="x", marks=[])
    sink = NullArtifacts()
    scope: dict = {"params": {}}
    ctx = StepContext(run_id="r", run_key="k", runbook="b", step_id="s", step_key="s", scope=scope, out_dir=out,
                      evaluate=lambda e: evaluate(e, scope), audit=lambda ev, d: None, artifacts=sink)
    render.run(ctx, {"template": "c", "title": "Scores", "formats": ["md", "docx"]})  # a PDF link is one more of these
    links = {key: public_url(target) for kind, key, target in sink.published if kind == "link"}
    assert links == {"c-md": f"{base}/k/c.md", "c-docx": f"{base}/k/c.docx"}
    assert httpx.get(links["c-docx"]).content[:2] == b"PK"
    markdown = next(text for kind, _key, text in sink.published if kind == "markdown")
    assert link_markdown(markdown) == f"# Scores\n\n![scores]({base}/k/scores.png)\n"
    assert httpx.get(f"{base}/k/scores.png").content[:8] == b"\x89PNG\r\n\x1a\n"
