"""`report.render`: a Jinja template from `templates/` rendered to Markdown, a framed DOCX and its PDF.

Every DOCX wears the organization's frame (tasks/reports/frame.py): cover block with audience,
date, version and author, header and footer with the confidentiality label and "page X of Y",
fitted tables and true core properties. A named assembler (`assemble:`) may first turn step
outputs into display values (`doc` in the template) and choose the title and file name.
"""

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
from golive.tasks.reports import (
    clinical,
    debrief,
    display,
    incident,
    it_pack,
    memo,
    packs,
    pdf,
    regional,
    roi,
    weekly,
)
from golive.tasks.reports.display import day
from golive.tasks.reports.docx_writer import markdown_to_docx
from golive.tasks.reports.frame import Cover, branding_for

ASSEMBLERS: dict[str, Any] = {
    "go-no-go": lambda ctx, params: memo.assemble(dict(ctx.scope), params, ctx.org),
    "roi": lambda ctx, params: roi.assemble(dict(ctx.scope), params, ctx.org,
                                            chart_dir=(ctx.out_dir / ctx.run_key) if params["template"] == "roi-report" else None,
                                            store=ctx.store),
    "weekly": weekly.assemble,  # reads the register in the store
    "go-live-pack": packs.go_live_pack,  # one per location (for_each), named by the location
    "provider-one-pager": packs.provider_one_pager,
    "rollback-incident": incident.assemble,  # its communication log comes from the delivery ledger
    "cdo-clinical": clinical.assemble,  # validation runs, metrics and register from the store
    "it-pack": it_pack.assemble,  # validation runs, technical checks, compliance status
    "regional": regional.assemble,  # one per region (for_each), named by the region
    "wave-debrief": debrief.assemble,  # results against the targets from the stored metrics
}

_IMAGE = re.compile(r"(!\[[^\]]*\]\()([^)\s/:]+)(\))")  # ![alt](chart.png): a file beside the report


def environment(template_dir: Path = paths.TEMPLATES) -> SandboxedEnvironment:
    return SandboxedEnvironment(
        loader=FileSystemLoader(str(template_dir)), undefined=StrictUndefined,
        autoescape=False, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
    )


def render_markdown(template: str, values: dict[str, Any], template_dir: Path = paths.TEMPLATES) -> str:
    env = environment(template_dir)
    org = values.get("org")
    env.filters["place"] = lambda location_id: display.location_name(org, str(location_id))  # id -> name
    env.filters["day"] = display.day
    env.filters["named"] = lambda text: display.named(org, str(text))  # ids inside composed text -> names
    try:
        return env.get_template(f"{template}.md.j2").render(**values)
    except TemplateNotFound:
        raise StepFailed(f"no report template {template!r} in {template_dir}") from None
    except UndefinedError as exc:
        raise StepFailed(f"report template {template!r}: {exc}") from None


def run(ctx: StepContext, params: dict[str, Any]) -> dict[str, Any]:
    template = params["template"]
    extra: dict[str, Any] = {}
    if params.get("assemble"):
        extra = ASSEMBLERS[params["assemble"]](ctx, params)
    title = extra.get("title") or params.get("title") or template
    values = {**ctx.scope, "context": params.get("context", {}), "title": title, "doc": extra.get("doc", {})}
    markdown = render_markdown(template, values)
    target_dir = ctx.out_dir / ctx.run_key
    if params.get("folder"):  # e.g. one location's report in a run that has its own evidence folder
        folder = str(params["folder"])
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", folder):
            raise StepFailed(f"report folder {folder!r}: one folder name (letters, digits, . _ -)")
        target_dir = target_dir / folder
    target_dir.mkdir(parents=True, exist_ok=True)
    stem = params.get("name", template) + (f"-{extra['stem_suffix']}" if extra.get("stem_suffix") else "")
    formats = params.get("formats", ["md", "docx", "pdf"])
    written: list[str] = []
    md_path = target_dir / f"{stem}.md"
    tmp = md_path.with_suffix(".md.part")
    tmp.write_text(markdown, encoding="utf-8")
    tmp.replace(md_path)
    written.append(str(md_path))
    if "docx" in formats or "pdf" in formats:
        brand = branding_for(ctx.org)
        cover = Cover(
            title=title, audience=params.get("audience", ""), question=extra.get("question") or params.get("question", ""),
            date=extra.get("date") or params.get("date") or day(ctx.today()), version=str(params.get("version", "1.0")),
            subject=params.get("question") or title, run_key=ctx.run_key,
            created=ctx.run_started,  # the real run time; the cover date is the timeline's
            landscape=bool(params.get("landscape", False)),
        )
        docx_path = markdown_to_docx(markdown, target_dir / f"{stem}.docx", base_dir=target_dir, brand=brand, cover=cover)
        written.append(str(docx_path))
        if "pdf" in formats and pdf.enabled():
            written.extend(str(p) for p in pdf.to_pdf([docx_path]))
    for path in written:  # each document gets a link the Prefect UI can open
        suffix = Path(path).suffix.lstrip(".")
        ctx.artifacts.link(f"{stem.lower()}-{suffix}", path, description=f"{title} ({suffix.upper()})")
    # Images next to the report (charts) are named relative to it; the artifact needs them absolute.
    published = _IMAGE.sub(lambda m: f"{m[1]}{target_dir / m[2]}{m[3]}" if (target_dir / m[2]).is_file() else m[0],
                           markdown)
    ctx.artifacts.markdown(stem.lower(), published, description=title)
    out: dict[str, Any] = {"reports": written, "title": title}
    if extra.get("stem_suffix"):  # a fan-out's item (location, region): `selectattr('key', 'equalto', item)`
        out["key"] = str(extra["stem_suffix"])
    return out


KIND = StepKind(name="report.render", run=run)
KINDS = (KIND,)
