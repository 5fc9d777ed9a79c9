"""Markdown to DOCX: markdown-it-py parses (CommonMark + tables), python-docx writes.

Covers what our templates use: headings, paragraphs with bold/italic/code, bullet and numbered
lists, tables and images. Anything else degrades to plain paragraphs rather than being lost.
"""

from __future__ import annotations

from pathlib import Path

from docx import Document
from docx.shared import Inches
from markdown_it import MarkdownIt
from markdown_it.token import Token

_MD = MarkdownIt("commonmark").enable("table")


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
            run.bold, run.italic = bold, italic
            if child.type == "code_inline":
                run.font.name = "Consolas"
        elif child.type in ("softbreak", "hardbreak"):
            paragraph.add_run().add_break()
        elif child.type == "image":
            src = base_dir / str(child.attrs.get("src", ""))
            if src.is_file():
                paragraph.add_run().add_picture(str(src), width=Inches(6))


def markdown_to_docx(markdown: str, target: Path, *, base_dir: Path, title: str | None = None) -> Path:
    """Write `markdown` as a DOCX at `target` (atomically: a temp file, then rename)."""
    doc = Document()
    if title:
        doc.core_properties.title = title
    tokens = _MD.parse(markdown)
    list_styles: list[str] = []
    i = 0
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
            i = _add_table(doc, tokens, i, base_dir)
            continue
        elif tok.type in ("fence", "code_block"):
            para = doc.add_paragraph()
            para.add_run(tok.content.rstrip("\n")).font.name = "Consolas"
        i += 1
    tmp = target.with_suffix(target.suffix + ".part")
    doc.save(str(tmp))
    tmp.replace(target)
    return target


def _add_table(doc, tokens: list[Token], start: int, base_dir: Path) -> int:  # type: ignore[no-untyped-def]
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
        for r, cells in enumerate(rows):
            for c, cell in enumerate(cells):
                para = table.cell(r, c).paragraphs[0]
                _add_inline(para, cell, base_dir)
                if r == 0:
                    for run in para.runs:
                        run.bold = True
    return i + 1
