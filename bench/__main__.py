"""Run every benchmark area and print its lines. `python -m bench [AREA ...]` runs some of them."""

from __future__ import annotations

import importlib
import sys
import time

AREAS = ("engine", "store", "planning", "gates", "imaging", "pms", "dicom", "compliance", "program", "collect", "documents", "scale", "rehearse", "workers")


def main(argv: list[str]) -> int:
    chosen = argv or list(AREAS)
    failed = 0
    for area in chosen:
        try:
            module = importlib.import_module(f"bench.{area}")
        except ModuleNotFoundError as exc:
            if exc.name != f"bench.{area}":
                raise
            print(f"[{area}] no benchmark module")
            continue
        print(f"[{area}]", flush=True)
        started = time.perf_counter()
        try:
            for line in module.main():
                print(f"  {line}", flush=True)
        except Exception as exc:  # one broken area must not hide the others' figures
            failed += 1
            print(f"  FAILED: {type(exc).__name__}: {exc}", flush=True)
        print(f"  ({time.perf_counter() - started:.1f} s)", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
