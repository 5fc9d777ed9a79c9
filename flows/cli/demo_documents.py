"""The demo's stakeholder pack: every framed document (DOCX + PDF) this demo wrote, and the outbox.

The example organization configures no delivery channel, so `notify` steps leave their messages
(with the documents attached) in the outbox folder; this lists both so a reader can open them.
"""

from __future__ import annotations

from pathlib import Path

from rich.console import Console


def pack(outputs: list[str]) -> list[Path]:
    """The DOCX and PDF documents among the demo's outputs, in the order they were written."""
    return [Path(p) for p in outputs if Path(p).suffix in (".docx", ".pdf")]


def show(console: Console, outputs: list[str], out_dir: Path, session: str) -> None:
    docs = pack(outputs)
    console.rule("Stakeholder documents")
    for path in docs:
        if path.suffix == ".pdf":
            console.print(f"  {path}  (+ .docx)", markup=False)
    outbox = sorted((out_dir / "outbox").glob(f"demo-{session}-*/*.eml")) if session else []
    console.print(f"Outbox (no delivery channel configured in the organization file): {out_dir / 'outbox'}",
                  markup=False)
    for message in outbox:
        subject = next((line[9:] for line in message.read_text(errors="replace").splitlines()
                        if line.startswith("Subject: ")), "")
        console.print(f"  {message.parent.name}/{message.name}: {subject}", markup=False)
