"""Go/no-go gates, rollback triggers and the metrics they read (playbook section 4).

Plain modules: `criteria` (what a gate checks), `observations` (daily metrics as arrays),
`stats` (the tests, checked against scipy), `evaluate` (the pure gate), `verdict` (the decision
and its evidence), `triggers` (the four rollback triggers), `simulator` (seeded rehearsal data),
`probe` (HTTP health probe), `deadline` (clocks from a trigger time), `records` and `repository`
(tables of migration 0003_gates). `kinds` wraps them as step kinds; `launch` starts the rollback
runbook from the watch (the one place that touches Prefect).
"""
