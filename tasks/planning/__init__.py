"""Planning: the organization model, readiness scoring, wave plan, go-live calendar, baseline metrics.

Plain-Python domain modules (no Prefect import); `golive.tasks.planning.kinds` wraps them as step kinds.
"""
