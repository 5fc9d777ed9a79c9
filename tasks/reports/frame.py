"""The document frame every generated DOCX wears: branding, cover block, header/footer, properties.

The organization file's `documents:` block chooses the brand (company name, rollout office, colours,
logo, confidentiality label, optionally a corporate reference .docx whose styles and page set-up
are reused). Without it a plain default applies: the organization's name, "Rollout Office", navy.

Word fields (PAGE, NUMPAGES) make "Page X of Y" true in Word and in LibreOffice's PDF export.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.section import WD_ORIENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Emu, Inches, Pt, RGBColor

DEFAULT_CONFIDENTIALITY = "Confidential: internal use only"
FONT = "Arial"  # Liberation Sans on Linux (metric-compatible), Arial in Word


@dataclass(frozen=True)
class Branding:
    company: str = "Dental Group"
    rollout_office: str = "Rollout Office"
    confidentiality: str = DEFAULT_CONFIDENTIALITY
    primary: str = "1F3864"  # headings, cover rule, table header fill
    accent: str = "D9E2F3"  # table header background
    logo: Path | None = None
    reference: Path | None = None  # a corporate .docx: its styles, margins, header art are kept


def branding_for(org: Any) -> Branding:
    """The brand from an organization (duck-typed: reports do not import planning)."""
    if org is None:
        return Branding()
    style = getattr(org, "documents", None)
    company = getattr(org, "name", None) or "Dental Group"
    if style is None:
        return Branding(company=company)
    return Branding(
        company=style.company_name or company,
        rollout_office=style.rollout_office or "Rollout Office",
        confidentiality=style.confidentiality or DEFAULT_CONFIDENTIALITY,
        primary=(style.primary or Branding.primary).lstrip("#").upper(),
        accent=(style.accent or Branding.accent).lstrip("#").upper(),
        logo=style.logo,
        reference=style.reference,
    )


@dataclass(frozen=True)
class Cover:
    title: str
    audience: str = ""
    question: str = ""
    date: str = ""  # the document's as-of date, already formatted for people
    version: str = "1.0"
    prepared_by: str = ""  # defaults to the rollout office
    subject: str = ""
    run_key: str = ""
    created: datetime | None = None
    landscape: bool = False


def new_document(brand: Branding, cover: Cover) -> DocxDocument:
    """A framed, empty document: page set-up, styles, header/footer, properties and cover block."""
    doc = Document(str(brand.reference)) if brand.reference else Document()
    if brand.reference:
        body = doc.element.body
        for child in list(body):
            if child.tag != qn("w:sectPr"):
                body.remove(child)
    else:
        _default_styles(doc, brand)
    section = doc.sections[0]
    if not brand.reference:
        section.page_width, section.page_height = Inches(8.5), Inches(11)
        section.left_margin = section.right_margin = Inches(0.75)
        section.top_margin, section.bottom_margin = Inches(0.7), Inches(0.7)
        section.header_distance = section.footer_distance = Inches(0.3)
    if cover.landscape:
        section.orientation = WD_ORIENT.LANDSCAPE
        section.page_width, section.page_height = section.page_height, section.page_width
    _header_footer(doc, brand, cover)
    _properties(doc, brand, cover)
    _cover_block(doc, brand, cover)
    return doc


def text_width(doc: DocxDocument) -> Emu:
    s = doc.sections[-1]
    return Emu(int(s.page_width or Inches(8.5)) - int(s.left_margin or 0) - int(s.right_margin or 0))


def _default_styles(doc: DocxDocument, brand: Branding) -> None:
    styles = doc.styles
    normal = styles["Normal"]
    normal.font.name = FONT
    normal.font.size = Pt(10)
    normal.paragraph_format.space_after = Pt(4)
    rfonts = normal.element.get_or_add_rPr().get_or_add_rFonts()
    for attr in ("w:ascii", "w:hAnsi", "w:cs", "w:eastAsia"):
        rfonts.set(qn(attr), FONT)
    colour = RGBColor.from_string(brand.primary)
    for name, size in (("Title", 20), ("Heading 1", 14), ("Heading 2", 12), ("Heading 3", 11), ("Heading 4", 10)):
        st = styles[name]
        st.font.name = FONT
        st.font.size = Pt(size)
        st.font.color.rgb = colour
        st.paragraph_format.space_before = Pt(8 if name != "Title" else 0)
        st.paragraph_format.space_after = Pt(3)
        rf = st.element.get_or_add_rPr().get_or_add_rFonts()
        for attr in ("w:ascii", "w:hAnsi", "w:cs", "w:eastAsia"):
            rf.set(qn(attr), FONT)
        for theme in ("w:asciiTheme", "w:hAnsiTheme", "w:cstheme", "w:eastAsiaTheme"):
            rf.attrib.pop(qn(theme), None)


def _field(paragraph, instruction: str) -> None:  # type: ignore[no-untyped-def]
    """A complex Word field (PAGE, NUMPAGES): begin, instruction, separate, placeholder, end."""
    def fld(kind: str):  # type: ignore[no-untyped-def]
        el = OxmlElement("w:fldChar")
        el.set(qn("w:fldCharType"), kind)
        return el

    run = paragraph.add_run()
    run._r.append(fld("begin"))
    run = paragraph.add_run()
    instr = OxmlElement("w:instrText")
    instr.set(qn("xml:space"), "preserve")
    instr.text = f" {instruction} "
    run._r.append(instr)
    run = paragraph.add_run()
    run._r.append(fld("separate"))
    paragraph.add_run("1")
    run = paragraph.add_run()
    run._r.append(fld("end"))


def _header_footer(doc: DocxDocument, brand: Branding, cover: Cover) -> None:
    section = doc.sections[0]
    header = section.header.paragraphs[0]
    header.text = ""
    if brand.logo and Path(brand.logo).is_file():
        header.add_run().add_picture(str(brand.logo), height=Inches(0.3))
        header.add_run("  ")
    name = header.add_run(brand.company)
    name.bold = True
    name.font.size = Pt(8)
    name.font.color.rgb = RGBColor.from_string(brand.primary)
    label = header.add_run(f"    {brand.confidentiality}")
    label.font.size = Pt(8)
    footer = section.footer.paragraphs[0]
    footer.text = ""
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    left = footer.add_run(f"{cover.title} · version {cover.version} · {brand.confidentiality} · Page ")
    left.font.size = Pt(8)
    _field(footer, "PAGE")
    footer.add_run(" of ").font.size = Pt(8)
    _field(footer, "NUMPAGES")
    for run in footer.runs:
        run.font.size = Pt(8)


def _properties(doc: DocxDocument, brand: Branding, cover: Cover) -> None:
    props = doc.core_properties
    created = cover.created or datetime.now(UTC)
    props.author = brand.rollout_office
    props.last_modified_by = brand.rollout_office
    props.created = created
    props.modified = created
    props.title = cover.title
    props.subject = cover.subject or cover.question or cover.title
    props.identifier = cover.run_key
    props.keywords = f"run {cover.run_key}" if cover.run_key else ""
    props.category = cover.audience
    props.version = cover.version
    props.revision = 1
    props.comments = f"Generated by golive for {brand.company}."
    props.last_printed = created


def _cover_block(doc: DocxDocument, brand: Branding, cover: Cover) -> None:
    doc.add_paragraph(cover.title, style="Title")
    meta = doc.add_paragraph()
    bits = [("For", cover.audience), ("Date", cover.date), ("Version", cover.version),
            ("Prepared by", cover.prepared_by or brand.rollout_office)]
    first = True
    for key, value in bits:
        if not value:
            continue
        if not first:
            meta.add_run("   |   ").font.size = Pt(8.5)
        k = meta.add_run(f"{key}: ")
        k.bold = True
        k.font.size = Pt(8.5)
        meta.add_run(value).font.size = Pt(8.5)
        first = False
    _bottom_rule(meta, brand.primary)
    if cover.question:
        q = doc.add_paragraph()
        k = q.add_run("Question: ")
        k.bold = True
        q.add_run(cover.question).italic = True


def _bottom_rule(paragraph, colour: str) -> None:  # type: ignore[no-untyped-def]
    ppr = paragraph._p.get_or_add_pPr()
    border = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for k, v in (("w:val", "single"), ("w:sz", "8"), ("w:space", "2"), ("w:color", colour)):
        bottom.set(qn(k), v)
    border.append(bottom)
    ppr.append(border)


# ---------------------------------------------------------------------------------------------
# Tables: widths fitted to the content, header row repeated on every page


def fit_widths(rows: list[list[str]], total: int) -> list[int]:
    """Column widths in EMU, whole twips (Word's unit), never summing to more than `total`."""
    return [w - w % 635 - 635 for w in _fit(rows, total)]


def _fit(rows: list[list[str]], total: int) -> list[int]:
    """Column widths (EMU) summing to `total`: each column gets at least its longest word, the rest
    of the width goes to the columns with the most text, so names never break mid-word when they fit.
    """
    ncols = max((len(r) for r in rows), default=0)
    if ncols == 0:
        return []
    char = 66000  # ~ one bold character at 8.5 pt Arial/Liberation Sans, in EMU
    words = [max((len(w) for r in rows if c < len(r) for w in re.split(r"[ \t\n]+", r[c]) if w), default=3) for c in range(ncols)]
    lengths = [max((len(r[c]) for r in rows if c < len(r)), default=3) for c in range(ncols)]
    pad = 3  # the cell's left and right margins (0.08 in each), in characters
    minimum = [(min(max(w, 3), 28) + pad) * char for w in words]
    want = [(min(max(n, 3), 60) + pad) * char for n in lengths]
    if sum(minimum) >= total:  # too many columns: share in proportion to the minimum
        return [int(total * m / sum(minimum)) for m in minimum]
    if sum(want) <= total:  # everything fits on one line: spread the slack proportionally
        return [int(total * w / sum(want)) for w in want]
    slack = total - sum(minimum)
    extra = [w - m for w, m in zip(want, minimum, strict=True)]
    return [m + int(slack * e / sum(extra)) if sum(extra) else m for m, e in zip(minimum, extra, strict=True)]


def format_table(table, texts: list[list[str]], total: int, brand: Branding) -> None:  # type: ignore[no-untyped-def]
    """Fixed layout with fitted widths; the first row is a repeating, shaded, bold header."""
    widths = fit_widths(texts, total)
    table.autofit = False
    tbl_pr = table._tbl.tblPr
    layout = OxmlElement("w:tblLayout")
    layout.set(qn("w:type"), "fixed")
    tbl_pr.append(layout)
    tbl_w = tbl_pr.find(qn("w:tblW"))
    if tbl_w is None:
        tbl_w = OxmlElement("w:tblW")
        tbl_pr.append(tbl_w)
    tbl_w.set(qn("w:type"), "dxa")
    tbl_w.set(qn("w:w"), str(sum(widths) // 635))
    for col, width in zip(table.columns, widths, strict=False):
        col.width = Emu(width)
    for r, row in enumerate(table.rows):
        tr_pr = row._tr.get_or_add_trPr()
        cant = OxmlElement("w:cantSplit")
        tr_pr.append(cant)
        if r == 0:
            header = OxmlElement("w:tblHeader")
            tr_pr.append(header)
        for c, cell in enumerate(row.cells):
            if c < len(widths):
                cell.width = Emu(widths[c])
            for para in cell.paragraphs:
                para.paragraph_format.space_after = Pt(0)
                for run in para.runs:
                    run.font.size = Pt(8.5)
                    if r == 0:
                        run.bold = True
            if r == 0:
                shade = OxmlElement("w:shd")
                shade.set(qn("w:val"), "clear")
                shade.set(qn("w:color"), "auto")
                shade.set(qn("w:fill"), brand.accent)
                cell._tc.get_or_add_tcPr().append(shade)
