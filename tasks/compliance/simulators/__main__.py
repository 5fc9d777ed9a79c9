"""`python -m golive.tasks.compliance.simulators scim|platform ...`: run a SIMULATOR as a process.

The process binds a port the OS picks and writes `{"port": N}` to `--ready-file` once it listens,
so parallel test runs never race for a port.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import socket
from pathlib import Path

import uvicorn


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m golive.tasks.compliance.simulators",
                                description="SCIM and platform API SIMULATORS (fake data; not the real services)")
    sub = p.add_subparsers(dest="which", required=True)
    scim = sub.add_parser("scim", help="SCIM 2.0 service provider")
    scim.add_argument("--data", required=True, help="JSON file {\"Users\": [...], \"Groups\": [...]}")
    platform = sub.add_parser("platform", help="platform patient-data API (deletion workflow)")
    for s in (scim, platform):
        s.add_argument("--host", default="127.0.0.1")
        s.add_argument("--ready-file", required=True)
        s.add_argument("--token-env", default="GOLIVE_SIM_TOKEN", help="environment variable holding the bearer token")
        s.add_argument("--certfile")
        s.add_argument("--keyfile")
    a = p.parse_args(argv)
    token = os.environ.get(a.token_env, "")
    if not token:
        p.error(f"set {a.token_env} to the bearer token the simulator accepts")
    if a.which == "scim":
        from golive.tasks.compliance.simulators.scim_app import create_app as scim_app

        app = scim_app(json.loads(Path(a.data).read_text(encoding="utf-8")), token)
    else:
        from golive.tasks.compliance.simulators.platform_app import create_app as platform_app

        app = platform_app(token)
    sock = socket.create_server((a.host, 0))
    logging.basicConfig(level=logging.WARNING)
    config = uvicorn.Config(app, log_level="warning", access_log=False, ssl_certfile=a.certfile,
                            ssl_keyfile=a.keyfile)
    server = uvicorn.Server(config)
    ready = Path(a.ready_file)
    tmp = ready.with_suffix(".part")
    tmp.write_text(json.dumps({"port": sock.getsockname()[1]}))
    os.replace(tmp, ready)  # the port is announced whole or not at all
    server.run(sockets=[sock])


if __name__ == "__main__":
    main()
