"""golive step kinds: plain-Python domain modules, each registered in `golive.tasks.registry.STEP_KINDS`."""
