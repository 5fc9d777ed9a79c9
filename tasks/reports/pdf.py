"""DOCX to PDF through LibreOffice headless (`soffice --convert-to pdf`).

Each conversion gets its own LibreOffice profile directory (`-env:UserInstallation`): two runs
sharing the default profile lock each other out, and a conversion would silently produce nothing.
`GOLIVE_PDF=off` skips conversion (tests of other areas that render reports but do not read PDFs).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

from golive.tasks.foundation.errors import StepFailed


def enabled() -> bool:
    return os.environ.get("GOLIVE_PDF", "on").lower() not in ("off", "0", "false", "no")


def soffice() -> str:
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if not found:
        raise StepFailed("PDF conversion needs LibreOffice (soffice) on PATH: install libreoffice-writer-nogui, "
                         "or set GOLIVE_PDF=off to write DOCX only")
    return found


def to_pdf(docx_files: Sequence[Path], *, timeout: float = 180.0) -> list[Path]:
    """Convert DOCX files to PDFs beside them (one LibreOffice start for the batch); atomic per file."""
    if not docx_files:
        return []
    binary = soffice()
    results: list[Path] = []
    with tempfile.TemporaryDirectory(prefix="golive-lo-") as tmp:
        profile = Path(tmp) / "profile"
        outdir = Path(tmp) / "out"
        outdir.mkdir()
        cmd = [binary, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore",
               "--convert-to", "pdf:writer_pdf_Export", "--outdir", str(outdir), *[str(p) for p in docx_files]]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)  # noqa: S603
        except subprocess.TimeoutExpired:
            raise StepFailed(f"LibreOffice did not convert {len(docx_files)} document(s) within {timeout:.0f} s") from None
        for docx in docx_files:
            produced = outdir / (Path(docx).stem + ".pdf")
            if not produced.is_file():
                raise StepFailed(f"LibreOffice produced no PDF for {Path(docx).name} "
                                 f"(exit {proc.returncode}): {proc.stderr.strip()[-300:]}")
            target = Path(docx).with_suffix(".pdf")
            part = target.with_suffix(".pdf.part")
            shutil.copyfile(produced, part)
            part.replace(target)
            results.append(target)
    return results
