"""`make demo`, the runs part: one live run per run key (a second taker is refused, naming the
holder), and the demo's runs by state as `golive runs` lists them."""

from __future__ import annotations

from collections import Counter

from rich.console import Console


def show(console: Console) -> int:
    from golive.tasks.store import Store, leases

    console.rule("runs: one live run per run key")
    store = Store.open()
    try:
        holder = leases.Holder.take(store, "demo-lease")
        try:
            leases.acquire(store, "demo-lease")
            console.print("[red]a second run of one run key was not refused[/]")
            return 1
        except leases.RunKeyBusy as exc:
            console.print(f"a second `golive run --run-key demo-lease` exits 2: error: {exc}", markup=False)
        finally:
            holder.close()
        states = Counter(r.state for r in store.list_runs())
        console.print("runs in the store by state (golive runs --state S): "
                      + ", ".join(f"{n} {s}" for s, n in sorted(states.items())), markup=False)
    finally:
        store.dispose()
    return 0
