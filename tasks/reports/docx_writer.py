"""Markdown to DOCX: markdown-it-py parses (CommonMark + tables), python-docx writes.

Covers what our templates use: headings, paragraphs with bold/italic/code, bullet and numbered
lists, tables and images. Anything else degrades to plain paragraphs rather than being lost.
"""

from __future__ import annotations

from pathlib import Path

from docx.shared import Emu, Inches
from markdown_it import MarkdownIt
from markdown_it.token import Token

from golive.tasks.reports.frame import Branding, Cover, format_table, new_document, text_width

_MD = MarkdownIt("commonmark").enable("table")
_WIDTH = [int(Inches(7))]  # the current document's text width (set per document, single-threaded use)


def _add_inline(paragraph, token: Token, base_dir: Path) -> None:  # type: ignore[no-untyped-def]
    bold = italic = False
    for child in token.children or []:
        if child.type == "strong_open":
            bold = True
        elif child.type == "strong_close":
            bold = False
        elif child.type == "em_open":
            italic = True
        elif child.type == "em_close":
            italic = False
        elif child.type in ("text", "code_inline"):
            run = paragraph.add_run(child.content)
            if bold:  # set only when on: each property write inserts XML in schema order (slow)
                run.bold = True
            if italic:
                run.italic = True
            if child.type == "code_inline":
                run.font.name = "Consolas"
        elif child.type in ("softbreak", "hardbreak"):
            paragraph.add_run().add_break()
        elif child.type == "image":
            src = base_dir / str(child.attrs.get("src", ""))
            if src.is_file():
                paragraph.add_run().add_picture(str(src), width=Emu(min(int(Inches(6.9)), _WIDTH[0])))


def markdown_to_docx(markdown: str, target: Path, *, base_dir: Path, title: str | None = None,
                     brand: Branding | None = None, cover: Cover | None = None) -> Path:
    """Write `markdown` as a framed DOCX at `target` (atomically: a temp file, then rename).

    The markdown's leading `# Title` becomes the cover block's title (unless `cover` names one).
    """
    tokens = _MD.parse(markdown)
    i = 0
    heading = None
    if len(tokens) > 2 and tokens[0].type == "heading_open" and tokens[0].tag == "h1":
        heading = tokens[1].content
        i = 3
    cover = cover or Cover(title=title or heading or target.stem)
    brand = brand or Branding()
    doc = new_document(brand, cover)
    width = int(text_width(doc))
    _WIDTH[0] = width
    list_styles: list[str] = []
    while i < len(tokens):
        tok = tokens[i]
        if tok.type == "heading_open":
            doc.add_heading(tokens[i + 1].content, level=min(int(tok.tag[1]), 4))
            i += 3
            continue
        if tok.type in ("bullet_list_open", "ordered_list_open"):
            list_styles.append("List Bullet" if tok.type == "bullet_list_open" else "List Number")
        elif tok.type in ("bullet_list_close", "ordered_list_close"):
            list_styles.pop()
        elif tok.type == "inline" and tokens[i - 1].type == "paragraph_open":
            style = list_styles[-1] if list_styles else None
            _add_inline(doc.add_paragraph(style=style), tok, base_dir)
        elif tok.type == "table_open":
            i = _add_table(doc, tokens, i, base_dir, width, brand)
            continue
        elif tok.type in ("fence", "code_block"):
            para = doc.add_paragraph()
            para.add_run(tok.content.rstrip("\n")).font.name = "Consolas"
        i += 1
    tmp = target.with_suffix(target.suffix + ".part")
    doc.save(str(tmp))
    tmp.replace(target)
    return target


def _add_table(doc, tokens: list[Token], start: int, base_dir: Path, width: int,  # type: ignore[no-untyped-def]
               brand: Branding) -> int:
    rows: list[list[Token]] = []
    i = start
    while tokens[i].type != "table_close":
        if tokens[i].type == "tr_open":
            rows.append([])
        elif tokens[i].type == "inline":
            rows[-1].append(tokens[i])
        i += 1
    if rows:
        table = doc.add_table(rows=len(rows), cols=max(len(r) for r in rows))
        table.style = "Table Grid"
        # Row by row: python-docx's table.cell(r, c) walks the whole grid on each call (quadratic).
        for row, cells in zip(table.rows, rows, strict=False):
            for target, cell in zip(row.cells, cells, strict=False):
                _add_inline(target.paragraphs[0], cell, base_dir)
        format_table(table, [[c.content for c in r] for r in rows], width, brand)
    return i + 1
