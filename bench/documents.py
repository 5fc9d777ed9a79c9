"""Documents benchmark: the framed DOCX of a 50-location table, and the ledgered delivery.

- render a 50-row, 7-column Markdown table through the frame (cover, header/footer fields, fitted
  widths, repeated header, properties) against python-docx writing the same table unframed with
  default equal widths (the least any DOCX writer must do);
- one DOCX to PDF through LibreOffice headless (a private profile per conversion), on its own: the
  figure that decides how many conversions the default tests may do;
- `notify` to the outbox with the store's delivery ledger (SQLite) against writing the same .eml
  file without a ledger.
All measured in the same run, interleaved.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from docx import Document

from bench.timing import Samples, interleaved, ratio_line, timed
from golive.tasks.context import StepContext
from golive.tasks.core import notify
from golive.tasks.delivery import send
from golive.tasks.foundation.paths import DEFAULT_ORG
from golive.tasks.planning.organization import load_organization
from golive.tasks.reports import pdf
from golive.tasks.reports.docx_writer import markdown_to_docx
from golive.tasks.reports.frame import Branding, Cover

ROWS = 50
REPEAT = 5
HEADER = ["Location", "Case acceptance before", "Now", "Change (90% CI)", "Adoption", "Uptime", "Value"]


def _rows() -> list[list[str]]:
    return [[f"Generated Dental Studio {i:02d}", f"{55 + i % 7}.{i % 10}%", f"{57 + i % 5}.1%",
             f"+{i % 4}.2 pts (−1.{i % 9} to +{i % 6}.4)", "91.0%", "99.9%", "no measurable change yet"]
            for i in range(ROWS)]


def main() -> list[str]:
    rows = _rows()
    md = "# ROI\n\n| " + " | ".join(HEADER) + " |\n|" + "---|" * len(HEADER) + "\n"
    md += "".join("| " + " | ".join(r) + " |\n" for r in rows)
    lines: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)

        def framed() -> None:
            markdown_to_docx(md, folder / "framed.docx", base_dir=folder, brand=Branding(), cover=Cover(title="ROI"))

        def plain() -> None:
            doc = Document()
            table = doc.add_table(rows=ROWS + 1, cols=len(HEADER))
            for tr, values in zip(table.rows, [HEADER, *rows], strict=True):
                for cell, v in zip(tr.cells, values, strict=True):
                    cell.text = v
            doc.save(str(folder / "plain.docx"))

        ours, base = interleaved(framed, plain, REPEAT)
        lines.append(ratio_line(f"framed DOCX, {ROWS}-row table", ours, "python-docx unframed table", base))
        conversions = Samples(tuple(timed(lambda: pdf.to_pdf([folder / "framed.docx"])) for _ in range(3)))
        lines.append(f"DOCX to PDF (LibreOffice headless, private profile): {conversions.describe()}")

        from golive.tasks.store import Store

        store = Store.open(f"sqlite:///{folder / 'ledger.db'}", audit_key="bench")
        org = load_organization(DEFAULT_ORG)
        counter = iter(range(10_000))

        def ledgered() -> None:
            step = f"s{next(counter)}"
            ctx = StepContext(run_id="r", run_key="bench", runbook="b", step_id=step, step_key=step, org=org,
                              store=store, out_dir=folder / "out")
            notify.run(ctx, {"to": ["CFO", "CEO"], "message": "The ROI report is ready."})

        def bare() -> None:
            msg = send.Message("The ROI report is ready", "The ROI report is ready.",
                               (send.Recipient("Raj Patel"), send.Recipient("Dana Whitfield")))
            key = f"{next(counter):016d}"
            send.write_outbox(send.email_message(msg, send.message_id(key)), folder / "bare", key)

        ours, base = interleaved(ledgered, bare, REPEAT)
        lines.append(ratio_line("notify to the outbox with the delivery ledger", ours, "writing the .eml alone", base))
        store.dispose()
    return lines
