"""`report.render`: a Jinja template from `templates/` rendered to Markdown and DOCX under `out/`."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from jinja2 import FileSystemLoader, StrictUndefined, TemplateNotFound, UndefinedError
from jinja2.sandbox import SandboxedEnvironment

from golive.tasks.context import StepContext
from golive.tasks.foundation import paths
from golive.tasks.foundation.errors import StepFailed
from golive.tasks.kind import StepKind
from golive.tasks.reports.docx_writer import markdown_to_docx

_IMAGE = re.compile(r"(!\[[^\]]*\]\()([^)\s/:]+)(\))")  # ![alt](chart.png): a file beside the report


def environment(template_dir: Path = paths.TEMPLATES) -> SandboxedEnvironment:
    return SandboxedEnvironment(
        loader=FileSystemLoader(str(template_dir)), undefined=StrictUndefined,
        autoescape=False, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
    )


def render_markdown(template: str, values: dict[str, Any], template_dir: Path = paths.TEMPLATES) -> str:
    try:
        return environment(template_dir).get_template(f"{template}.md.j2").render(**values)
    except TemplateNotFound:
        raise StepFailed(f"no report template {template!r} in {template_dir}") from None
    except UndefinedError as exc:
        raise StepFailed(f"report template {template!r}: {exc}") from None


def run(ctx: StepContext, params: dict[str, Any]) -> dict[str, Any]:
    template = params["template"]
    values = {**ctx.scope, "context": params.get("context", {}), "title": params.get("title", template)}
    markdown = render_markdown(template, values)
    target_dir = ctx.out_dir / ctx.run_key
    target_dir.mkdir(parents=True, exist_ok=True)
    stem = params.get("name", template)
    written: list[str] = []
    md_path = target_dir / f"{stem}.md"
    tmp = md_path.with_suffix(".md.part")
    tmp.write_text(markdown, encoding="utf-8")
    tmp.replace(md_path)
    written.append(str(md_path))
    if "docx" in params.get("formats", ["md", "docx"]):
        written.append(str(markdown_to_docx(markdown, target_dir / f"{stem}.docx", base_dir=target_dir,
                                            title=params.get("title"))))
    for path in (*written, str(target_dir / f"{stem}.pdf")):
        if Path(path).is_file():  # each document gets a link the Prefect UI can open
            ctx.artifacts.link(f"{stem}-{Path(path).suffix.lstrip('.')}", path,
                               description=f"{params.get('title', template)} ({Path(path).suffix.lstrip('.').upper()})")
    # Images next to the report (charts) are named relative to it; the artifact needs them absolute.
    published = _IMAGE.sub(lambda m: f"{m[1]}{target_dir / m[2]}{m[3]}" if (target_dir / m[2]).is_file() else m[0],
                           markdown)
    ctx.artifacts.markdown(f"{stem}", published, description=params.get("title", template))
    return {"reports": written}


KIND = StepKind(name="report.render", run=run)
KINDS = (KIND,)
