"""The organization's frame reaches the document: its logo is embedded byte for byte in the header,
its brand colour is in the heading styles, and a corporate reference .docx gives its own styles and
page set-up. Read back from the DOCX package (styles.xml, media, header part), as Word would."""

from __future__ import annotations

import dataclasses
import zipfile
from pathlib import Path
from typing import Any

from docx import Document
from docx.shared import Inches, RGBColor
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from golive.tasks.foundation.paths import DEFAULT_ORG
from golive.tasks.planning.organization import DocumentStyle, load_organization
from golive.tasks.reports import render
from tests.integration.documents.test_documents import ctx


def a_logo(path: Path) -> Path:
    figure = Figure(figsize=(1.2, 0.4), dpi=100)
    FigureCanvasAgg(figure)
    figure.text(0.1, 0.3, "ACME", fontsize=14, color="#0B4F6C")
    figure.savefig(path, format="png")
    return path


def provider_one_pager(org: Any, out: Path) -> Path:
    result = render.run(ctx(org, None, out, "provider-one-pager"), {
        "template": "provider-one-pager", "assemble": "provider-one-pager", "name": "provider-one-pager",
        "title": "The AI platform in your practice", "audience": "Providers", "formats": ["docx"],
        "context": {"start_date": "2026-03-16", "schedule": {"go_live": 14}}})
    return Path(result["reports"][1])


def test_logo_and_brand_colour_are_in_the_document(tmp_path: Path) -> None:
    acme = load_organization(DEFAULT_ORG)
    logo = a_logo(tmp_path / "logo.png")
    org = dataclasses.replace(acme, documents=dataclasses.replace(acme.documents, logo=logo))
    docx = provider_one_pager(org, tmp_path / "out")
    with zipfile.ZipFile(docx) as z:
        media = [n for n in z.namelist() if n.startswith("word/media/")]
        assert [z.read(n) for n in media] == [logo.read_bytes()]  # the very logo file, once
        headers = [z.read(n).decode() for n in z.namelist() if n.startswith("word/header")]
        assert any("<pic:pic" in h for h in headers)  # placed in the page header
        styles = z.read("word/styles.xml").decode()
    assert 'w:color w:val="0B4F6C"' in styles  # the organization's primary colour (#0B4F6C)
    doc = Document(str(docx))
    assert doc.styles["Heading 1"].font.color.rgb == RGBColor.from_string("0B4F6C")
    assert doc.styles["Title"].font.color.rgb == RGBColor.from_string("0B4F6C")


def test_a_corporate_reference_docx_gives_its_styles_and_page_set_up(tmp_path: Path) -> None:
    reference = Document()
    reference.styles["Heading 1"].font.color.rgb = RGBColor.from_string("7A1F5C")  # the corporate plum
    section = reference.sections[0]
    section.left_margin = section.right_margin = Inches(1.1)
    reference.add_paragraph("template body text that must not survive")
    reference.save(str(tmp_path / "corporate.docx"))
    acme = load_organization(DEFAULT_ORG)
    style: DocumentStyle = dataclasses.replace(acme.documents, reference=tmp_path / "corporate.docx")
    docx = provider_one_pager(dataclasses.replace(acme, documents=style), tmp_path / "out")
    doc = Document(str(docx))
    assert doc.styles["Heading 1"].font.color.rgb == RGBColor.from_string("7A1F5C")
    assert doc.sections[0].left_margin == Inches(1.1)
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "template body text" not in text and "The AI platform in your practice" in text
