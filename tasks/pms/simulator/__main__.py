"""`python -m golive.tasks.pms.simulator --port N --db PATH --version X --seed N`: run the Open Dental simulator."""

from __future__ import annotations

import argparse
import logging

import uvicorn

from golive.tasks.pms.simulator.app import SimSettings, create_app
from golive.tasks.pms.simulator.db import SimDb
from golive.tasks.pms.simulator.faults import FaultState


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m golive.tasks.pms.simulator",
                                description="Open Dental API SIMULATOR (fake data; not Open Dental)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8765)
    p.add_argument("--fd", type=int, default=None,
                   help="serve on this inherited, already-bound socket (the parent picked the port)")
    p.add_argument("--db", default="opendental-sim.db")
    p.add_argument("--version", default="25.3.20.0", help="ProgramVersion the simulator reports")
    p.add_argument("--throttle", type=float, default=5.0,
                   help="seconds per request per customer key (documented: 5 for ApiReadAll, 1 otherwise)")
    p.add_argument("--storage", choices=("AtoZ", "InDatabase"), default="AtoZ",
                   help="image storage: InDatabase leaves Documents GET filePath blank, as documented")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--patients", type=int, default=50)
    p.add_argument("--developer-key", default="sim-developer-key")
    p.add_argument("--customer-key", default="sim-customer-key")
    p.add_argument("--error-rate", type=float, default=0.0)
    p.add_argument("--rate-limit-rate", type=float, default=0.0)
    p.add_argument("--retry-after", type=float, default=1.0)
    p.add_argument("--latency", type=float, default=0.0)
    p.add_argument("--drop-after-commit-rate", type=float, default=0.0)
    a = p.parse_args(argv)
    db = SimDb(a.db)
    if db.is_empty():
        db.seed(a.patients, a.seed)
    else:
        db.seeded = (a.patients, a.seed)  # what /_sim/reset restores
    faults = FaultState()
    faults.configure(throttle_s=a.throttle, error_rate=a.error_rate, rate_limit_rate=a.rate_limit_rate, retry_after_s=a.retry_after,
                     latency_s=a.latency, drop_after_commit_rate=a.drop_after_commit_rate, seed=a.seed)
    settings = SimSettings(version=a.version, developer_key=a.developer_key, customer_key=a.customer_key,
                           storage=a.storage)
    logging.basicConfig(level=logging.WARNING)
    where = {"fd": a.fd} if a.fd is not None else {"host": a.host, "port": a.port}
    uvicorn.run(create_app(db, settings, faults), **where, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
