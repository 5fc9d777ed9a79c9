"""Read-only HTTP for the reports under out/, bound to 127.0.0.1, so Prefect artifacts can link to them.

Browsers refuse `file://` links from an http page (the Prefect UI), so `golive server start`
runs this beside the Prefect server. The standard library's handler serves GET and HEAD only
(anything else gets 501) and keeps requests inside the directory; nothing here writes.
"""

from __future__ import annotations

import argparse
import functools
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


class ReportHandler(SimpleHTTPRequestHandler):
    def end_headers(self) -> None:
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002  # the base class's name
        pass  # request paths can carry run keys; nothing is logged


def make_server(directory: Path, port: int) -> ThreadingHTTPServer:
    directory.mkdir(parents=True, exist_ok=True)
    handler = functools.partial(ReportHandler, directory=str(directory))
    return ThreadingHTTPServer(("127.0.0.1", port), handler)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dir", type=Path, required=True)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    make_server(args.dir, args.port).serve_forever()


if __name__ == "__main__":
    main()
